from django.core.wsgi import get_wsgi_application

from config.environment import use_settings_module

use_settings_module()
application = get_wsgi_application()
