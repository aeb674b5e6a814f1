import os
from wsgiref.validate import validator

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djsite.settings")
application = get_wsgi_application()
# The same app under wsgiref's PEP 3333 checks.
validated = validator(application)
