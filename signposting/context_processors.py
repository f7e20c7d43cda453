from django.http import HttpRequest


def service(request: HttpRequest) -> dict[str, str]:
    """Names every page needs: the service name in the header and the title."""
    return {"service_name": "Child protection signposting register"}
