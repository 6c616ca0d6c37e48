"""What every API view shares: permissions chosen per HTTP method, and validated query
parameters."""

from rest_framework.generics import GenericAPIView

from api.permissions import CanViewCampaigns


class ApiView(GenericAPIView):
    # {"POST": [CanLaunch]}; methods not named need only a role that may see campaigns.
    permissions_by_method: dict = {}

    def get_permissions(self):
        classes = self.permissions_by_method.get(self.request.method, [CanViewCampaigns])
        return [permission() for permission in classes]

    def query(self, serializer_class) -> dict:
        """The query string, validated: a bad filter answers 400 rather than being ignored."""
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
