"""Login forms with bounded fields: an overlong username is a form error, not a failed login to record."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator

# Django's default user model: usernames of at most 150 characters. Passwords are hashed on every
# attempt, so a megabyte of password would cost a megabyte of PBKDF2 per try.
USERNAME_MAX = 150
PASSWORD_MAX = 1024


class BoundedLoginMixin:
    """Refuse overlong credentials before authenticate(): django-axes would try to store the username
    in a 255-character column and fail (a 500), and no such user can exist anyway."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(USERNAME_MAX))
        self.fields["password"].validators.append(MaxLengthValidator(PASSWORD_MAX))


class LoginForm(BoundedLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(BoundedLoginMixin, AdminAuthenticationForm):
    pass
