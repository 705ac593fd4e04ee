from rest_framework.routers import DefaultRouter

from .views import EngineRunViewSet, FlagViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("engine-runs", EngineRunViewSet, basename="enginerun")
router.register("engine-flags", FlagViewSet, basename="engineflag")
urlpatterns = router.urls
