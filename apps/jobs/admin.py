from django.contrib import admin

from .models import Job, JobLogLine


class JobLogLineInline(admin.TabularInline):
    model = JobLogLine
    extra = 0
    readonly_fields = ["created_at", "level", "message"]
    can_delete = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "state", "queue", "progress_done", "progress_total", "attempts", "user",
                    "created_at"]
    list_filter = ["kind", "state", "queue"]
    search_fields = ["kind", "error"]
    readonly_fields = [f.name for f in Job._meta.fields]
    inlines = [JobLogLineInline]
