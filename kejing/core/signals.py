from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import PolicyDocument


@receiver([post_save, post_delete], sender=PolicyDocument)
def _policy_changed(**kwargs) -> None:
    """An administrator edited a policy: forget the cached copies so the next request sees the new rules."""
    from .policies import clear_cache

    clear_cache()
