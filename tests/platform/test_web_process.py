"""The web process never imports torch or the model code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # imports every view, serializer, admin and app module
import labelhub.wsgi
from django.contrib import admin
admin.autodiscover()
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'timm', 'open_clip', 'workers'}
               or m.startswith('ram_model.models'))
print(heavy)
"""


def test_loading_every_url_and_app_module_imports_no_torch():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"DEBUG": "1", "PATH": "/usr/bin:/bin"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
