"""Every HTML router, in the order the app includes them."""

from hotline.web import auth_views

routers = [auth_views.router]
