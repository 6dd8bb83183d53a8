from django.conf import settings


class SecurityHeadersMiddleware:
    """Headers Django 5.2 does not set itself: CSP and Permissions-Policy."""

    PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        return response
