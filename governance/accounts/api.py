"""The API's token doors: exchange a login (and a second factor's code) for a token; revoke one's own."""

from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.portal import auth


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("username"), max_length=150)
    password = serializers.CharField(label=_("password"), max_length=128, trim_whitespace=False,
                                     style={"input_type": "password"})
    otp = serializers.RegexField(r"^\d{6}$", label=_("code from your authenticator app"), required=False,
                                 help_text=_("Required when the account has a second factor."))


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TokenObtainView(APIView):
    """POST a login and password (and the second factor's code when the account has one): the caller's
    API token, valid API_TOKEN_DAYS from when it was issued. Failures count towards the login lockout
    (django-axes: the address and the account are locked each on its own)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenRequestSerializer

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The Django request, so that django-axes counts the failure and its middleware answers a lockout.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            return Response({"detail": gettext("Wrong username or password.")}, status=status.HTTP_400_BAD_REQUEST)
        if auth.has_second_factor(user):
            if not data.get("otp"):
                return Response({"otp": [gettext("This account has a second factor: send its current code.")]},
                                status=status.HTTP_400_BAD_REQUEST)
            if not auth.totp_verify(user=user, code=data["otp"]):
                return Response({"otp": [gettext("Wrong or expired code.")]}, status=status.HTTP_400_BAD_REQUEST)
        elif auth.otp_required(user):
            return Response({"detail": auth.gate_message("otp_setup")}, status=status.HTTP_403_FORBIDDEN)
        if auth.password_must_change(user):
            return Response({"detail": auth.gate_message("password")}, status=status.HTTP_403_FORBIDDEN)
        token = Token.objects.filter(user=user).first()
        if token is None or auth.token_expired(token):
            token = auth.token_issue(user=user, request=request._request)
        return Response({"token": token.key, "expires_at": timezone.localtime(auth.token_expires_at(token))})


class TokenRevokeView(APIView):
    """POST: the caller's own API token ends (any program using it is refused from then on)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        auth.token_revoke(user=request.user, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
