from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import resolve_url


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


class HtmxLoginRedirectMiddleware:
    """A page's htmx request whose session has ended is sent to the login page as a whole page.

    Left alone, htmx follows the login redirect and swaps the login page into the card or table
    row that asked (a "Scan now" button turns into a login form). HX-Redirect makes the browser
    leave the page instead, and the login page says why and returns to that page afterwards.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code not in (301, 302):
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login:
            return response
        page = urlsplit(request.htmx.current_url or "")
        back_to = page.path + (f"?{page.query}" if page.query else "") if page.path else "/"
        messages.info(request, "Your session has ended. Log in again to carry on where you were.")
        redirected = HttpResponse(status=204)
        redirected["HX-Redirect"] = f"{login}?{urlencode({'next': back_to})}"
        return redirected
