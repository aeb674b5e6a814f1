import json

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.template import engines
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

PAGE = engines["django"].from_string(
    "<ul>{% for i in items %}<li>{{ i }} &amp; {{ name }}</li>{% endfor %}</ul>")


def index(request):
    return HttpResponse(PAGE.render({"items": range(5), "name": request.GET.get("name", "srv")}))


@csrf_exempt
def echo(request):
    return JsonResponse({"method": request.method, "path": request.path,
                         "body": request.body.decode("latin-1"),
                         "host": request.get_host(),
                         "header": request.headers.get("X-Test", "")})


def stream(request):
    return StreamingHttpResponse((b"part%d " % i for i in range(4)))


urlpatterns = [path("", index), path("echo/", echo), path("stream/", stream)]
