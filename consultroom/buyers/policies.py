from __future__ import annotations

from consultroom.accounts.models import User
from consultroom.buyers.models import Buyer, BuyerImportBatch


def can_manage_buyers(user: User) -> bool:
    """Staff and admins keep the registry; SMEs never see buyers' contact data."""
    return bool(user.is_authenticated and user.is_staff)


def can_view_buyer(user: User, buyer: Buyer) -> bool:
    return can_manage_buyers(user)


def can_edit_buyer(user: User, buyer: Buyer) -> bool:
    return can_manage_buyers(user)


def can_use_import_batch(user: User, batch: BuyerImportBatch) -> bool:
    """Only the uploader previews and confirms a file: what another person confirms, they never saw."""
    return can_manage_buyers(user) and batch.created_by_id == user.id
