"""Django settings for Kejing.

Everything that differs between the demo, the test suite and production comes from environment variables, so
one settings module serves all three:

- ``KEJING_DB``: path of the SQLite file (default ``var/kejing.sqlite3`` under the working directory).
- ``DATABASE_URL``: a full database URL (PostgreSQL in production and CI); wins over ``KEJING_DB``.
- ``KEJING_SECRET_KEY``, ``KEJING_DEBUG``, ``KEJING_ALLOWED_HOSTS``: the usual web settings.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("KEJING_VAR", Path.cwd() / "var"))

SECRET_KEY = os.environ.get("KEJING_SECRET_KEY", "kejing-demo-insecure-key-change-me-in-production-0123456789")
DEBUG = os.environ.get("KEJING_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("KEJING_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "kejing.core",
    "kejing.org",
    "kejing.customers",
    "kejing.service",
    "kejing.appraisal",
    "kejing.catalog",
    "kejing.groupbiz",
    "kejing.forecasting",
    "kejing.territories",
]

# Apps that add pages (urls.py), API routes (api.py ``router``) and ``kejing`` commands (cli.py ``register``).
KEJING_MODULES = ["appraisal", "catalog", "groupbiz", "forecasting", "territories"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kejing.core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kejing.core.middleware.PasswordChangeRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kejing.urls"
WSGI_APPLICATION = "kejing.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kejing.core.context_processors.kejing",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        return dj_database_url.parse(url, conn_max_age=60)
    path = Path(os.environ.get("KEJING_DB", VAR_DIR / "kejing.sqlite3"))
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # WAL lets the worker write while the web process reads; a short busy wait beats "database is locked".
        "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
CSRF_FAILURE_VIEW = "kejing.core.errors.csrf_failure"  # a page a CM understands, not the token's explanation
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): five failures lock the username from that address for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("KEJING_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
KEJING_BROWSER_LANGUAGE = os.environ.get("KEJING_BROWSER_LANGUAGE", "0") == "1"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("KEJING_STATIC_ROOT") or None  # WhiteNoise serves from the apps directly
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
# hours a clean dry run's upload waits for "import now" before it is deleted (kejing.core.uploads)
KEJING_IMPORT_KEEP_HOURS = float(os.environ.get("KEJING_IMPORT_KEEP_HOURS", "24"))

TASKS = {"default": {"BACKEND": os.environ.get("KEJING_TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}

KEJING_POLICY_DIR = Path(os.environ.get("KEJING_POLICY_DIR", BASE_DIR / "policies"))
KEJING_PAGE_SIZE = 25
KEJING_EXPORT_MAX_ROWS = 200_000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"kejing": {"handlers": ["console"], "level": "INFO"}},
}

# Labels shown for the industries everywhere (policy files use the keys).
KEJING_INDUSTRIES = [
    ("tobacco", _("Tobacco retail")),
    ("telecom", _("Telecom enterprise")),
    ("bank", _("Corporate bank")),
]
