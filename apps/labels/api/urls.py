from rest_framework.routers import DefaultRouter

from .views import LabelSystemVersionViewSet, LabelSystemViewSet, MergeProposalViewSet, TagGroupViewSet, TagViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("label-systems", LabelSystemViewSet, basename="labelsystem")
router.register("label-system-versions", LabelSystemVersionViewSet, basename="labelsystemversion")
router.register("tag-groups", TagGroupViewSet, basename="taggroup")
router.register("tags", TagViewSet, basename="tag")
router.register("merge-proposals", MergeProposalViewSet, basename="mergeproposal")
urlpatterns = router.urls
