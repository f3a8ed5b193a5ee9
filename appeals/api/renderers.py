"""The browsable API's HTML under the site's Content-Security-Policy.

DRF's templates carry an inline <style> (code highlighting) and style attributes; for those
pages alone the policy also allows inline *styles* (never inline script). Everything else keeps
style-src 'self'.
"""

from csp.constants import UNSAFE_INLINE
from rest_framework.renderers import BrowsableAPIRenderer


class CspBrowsableAPIRenderer(BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src": [UNSAFE_INLINE]}
        return super().render(data, accepted_media_type, renderer_context)
