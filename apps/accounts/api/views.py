from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..roles import ROLES


class MeView(APIView):
    """Who am I: the signed-in user with roles and permissions."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=inline_serializer("Me", {
        "username": serializers.CharField(), "roles": serializers.ListField(child=serializers.CharField()),
        "is_superuser": serializers.BooleanField(),
        "permissions": serializers.ListField(child=serializers.CharField()),
    }))
    def get(self, request: Request) -> Response:
        user = request.user
        roles = sorted(set(user.groups.values_list("name", flat=True)) & set(ROLES))
        return Response({"username": user.get_username(), "roles": roles, "is_superuser": user.is_superuser,
                         "permissions": sorted(user.get_all_permissions())})


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (``Authorization: Token <key>``)."""

    permission_classes = [AllowAny]
