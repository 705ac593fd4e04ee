from rest_framework.routers import DefaultRouter

from .views import (
    ReviewApplicationViewSet,
    ReviewBatchViewSet,
    ReviewDecisionViewSet,
    ReviewFlagViewSet,
    ReviewRunViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("review-runs", ReviewRunViewSet, basename="reviewrun")
router.register("review-flags", ReviewFlagViewSet, basename="reviewflag")
router.register("review-batches", ReviewBatchViewSet, basename="reviewbatch")
router.register("review-decisions", ReviewDecisionViewSet, basename="reviewdecision")
router.register("review-applications", ReviewApplicationViewSet, basename="reviewapplication")
urlpatterns = router.urls
