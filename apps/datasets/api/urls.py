from rest_framework.routers import DefaultRouter

from .views import DatasetVersionViewSet, DatasetViewSet, SnapshotViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("dataset-versions", DatasetVersionViewSet, basename="datasetversion")
router.register("snapshots", SnapshotViewSet, basename="snapshot")
urlpatterns = router.urls
