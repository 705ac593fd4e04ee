from rest_framework.routers import DefaultRouter

from .views import CheckpointViewSet, EvalResultViewSet, TrainingRunViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("training-runs", TrainingRunViewSet, basename="trainingrun")
router.register("checkpoints", CheckpointViewSet, basename="checkpoint")
router.register("eval-results", EvalResultViewSet, basename="evalresult")
urlpatterns = router.urls
