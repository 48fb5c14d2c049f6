"""The Etsy simulator's data: a SimShop rendered as Etsy Open API v3 JSON, and
the ground truth (simtruth.py) is computed straight from the SimShop.

What the API shows differs from the shop on purpose, as on Etsy: a receipt's
``update_timestamp`` (kept here in ``api_modified``) moves when the order is
placed, first shipped or cancelled, but NOT on refunds or ship-date changes;
every time is whole epoch seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from makersync.plugins import FeeKind
from makersync.plugins.simshop import SimFee, SimListing, SimOrder, SimShop

PROPERTY_ID = 513  # Etsy's first custom-variation property
SIZES = frozenset({"Small", "Large", "6", "7", "8"})
# SimShop fee kind -> (ledger_type as Etsy writes it, FeeKind the books expect)
LEDGER_TYPES: dict[str, tuple[str, FeeKind]] = {
    "listing": ("listing", FeeKind.LISTING),
    "transaction": ("transaction", FeeKind.TRANSACTION),
    "processing": ("PAYMENT_PROCESSING_FEE", FeeKind.PROCESSING),
    "advertising": ("offsite_ads_fee", FeeKind.ADVERTISING),
    "shipping_label": ("shipping_labels", FeeKind.SHIPPING_LABEL),
}


def ts(when: datetime) -> int:
    return int(when.timestamp())


def whole(when: datetime) -> datetime:
    return datetime.fromtimestamp(ts(when), UTC)


def cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def money(value: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": cents(value), "divisor": 100, "currency_code": currency}


def property_name(listing: SimListing) -> str:
    return "Size" if any(v.option in SIZES for v in listing.variations) else "Style"


def offering_quantity(listing: SimListing, variation_id: int) -> int:
    return 0 if listing.state == "sold_out" else variation_id % 17 + 1


def status_word(order: SimOrder) -> str:
    if order.cancelled_at is not None:
        return "canceled"
    if order.refunded > 0 and order.refunded >= order.total:
        return "fully refunded"
    if order.refunded > 0:
        return "partially refunded"
    if order.shipped_at is not None:
        return "completed"
    return "paid" if order.paid else "open"


class EtsyShopData:
    """Renders one SimShop the way Etsy serves it, and computes its truth."""

    def __init__(self, shop: SimShop, shop_id: int, user_id: int) -> None:
        self.shop = shop
        self.shop_id = shop_id
        self.user_id = user_id
        self.api_modified: dict[int, datetime] = {}
        for order in shop.orders:
            self.api_modified[order.order_id] = max(
                t for t in (order.placed_at, order.cancelled_at, order.shipped_at) if t is not None
            )
        self.bad_listings: set[int] = set()
        self.bad_entries: set[int] = set()

    def modified(self, order: SimOrder) -> datetime:
        return self.api_modified.setdefault(order.order_id, order.placed_at)

    # -- receipts ---------------------------------------------------------------

    def receipt(self, order: SimOrder) -> dict[str, Any]:
        cur = order.currency
        placed, updated = ts(order.placed_at), ts(self.modified(order))
        shipped = ts(order.shipped_at) if order.shipped_at else None
        buyer = 90_000_000 + order.order_id % 1_000_000
        txs = []
        for n, line in enumerate(order.lines):
            listing = self.shop.listing(line.listing_id)
            var = next(v for v in listing.variations if v.variation_id == line.variation_id)
            picked = [{"property_id": PROPERTY_ID, "value_id": var.variation_id + 7, "formatted_name":
                       property_name(listing), "formatted_value": var.option, "question_id": None}]
            data = [{"property_id": PROPERTY_ID, "property_name": property_name(listing), "scale_id": None,
                     "scale_name": None, "value_ids": [var.variation_id + 7], "values": [var.option]}]
            txs.append({
                "transaction_id": line.line_id, "title": line.title, "description": "",
                "seller_user_id": self.user_id, "buyer_user_id": buyer,
                "create_timestamp": placed, "created_timestamp": placed,
                "paid_timestamp": placed if order.paid else None, "shipped_timestamp": shipped,
                "quantity": line.quantity, "listing_image_id": None, "receipt_id": order.order_id,
                "is_digital": False, "file_data": "", "listing_id": line.listing_id,
                "transaction_type": "listing", "product_id": line.variation_id, "sku": line.sku,
                "price": money(line.unit_price, cur), "shipping_cost": money(Decimal("0"), cur),
                "variations": picked if listing.has_variations else [],
                "product_data": data if listing.has_variations else [],
                "shipping_profile_id": None, "min_processing_days": 1, "max_processing_days": 3,
                "shipping_method": None, "shipping_upgrade": None, "expected_ship_date": placed + 3 * 86400,
                "buyer_coupon": 0.0, "shop_coupon": float(order.discount) if n == 0 else 0.0,
            })
        refunds = [{"amount": money(r.amount, cur), "created_timestamp": ts(r.created_at), "reason": r.reason,
                    "note_from_issuer": "", "status": "COMPLETED"} for r in order.refunds]
        shipments = [{"receipt_shipping_id": order.order_id * 10 + 3, "shipment_notification_timestamp": shipped,
                      "carrier_name": "usps", "tracking_code": f"9400{order.order_id}"}] if shipped else []
        body: dict[str, Any] = {
            "receipt_id": order.order_id, "receipt_type": 0, "seller_user_id": self.user_id,
            "seller_email": None, "buyer_user_id": buyer, "buyer_email": None, "name": f"Buyer {buyer}",
            "first_line": None, "second_line": None, "city": None, "state": None, "zip": None,
            "status": status_word(order), "formatted_address": None, "country_iso": "US",
            "payment_method": "cc", "payment_email": None, "message_from_seller": None,
            "message_from_buyer": None, "message_from_payment": None, "is_paid": order.paid,
            "is_shipped": shipped is not None, "create_timestamp": placed, "created_timestamp": placed,
            "update_timestamp": updated, "updated_timestamp": updated, "is_gift": False,
            "gift_message": "", "gift_sender": "",
            "grandtotal": money(order.total, cur), "subtotal": money(order.subtotal - order.discount, cur),
            "total_price": money(order.subtotal, cur), "total_shipping_cost": money(order.shipping, cur),
            "total_tax_cost": money(order.tax, cur), "total_vat_cost": money(Decimal("0"), cur),
            "discount_amt": money(order.discount, cur), "gift_wrap_price": money(Decimal("0"), cur),
            "shipments": shipments, "transactions": txs, "refunds": refunds,
        }
        if order.malformed:
            del body["grandtotal"]
        return body

    def payments(self, order: SimOrder) -> dict[str, Any]:
        cur = order.currency
        fees = sum((f.amount for f in self.shop.fees if f.order_id == order.order_id and f.kind == "processing"),
                   Decimal("0"))
        share = (order.total - order.refunded) / order.total if order.total else Decimal("1")
        adjusted_fees = (fees * share).quantize(Decimal("0.01"))
        placed = ts(order.placed_at)
        return {"count": 1, "results": [{
            "payment_id": order.order_id * 10 + 5, "buyer_user_id": 0, "shop_id": self.shop_id,
            "receipt_id": order.order_id, "amount_gross": money(order.total, cur), "amount_fees": money(fees, cur),
            "amount_net": money(order.total - fees, cur), "posted_gross": None, "posted_fees": None,
            "posted_net": None, "adjusted_gross": money(order.total - order.refunded, cur),
            "adjusted_fees": money(adjusted_fees, cur),
            "adjusted_net": money(order.total - order.refunded - adjusted_fees, cur), "currency": cur,
            "shop_currency": cur, "buyer_currency": cur, "shipping_user_id": None, "shipping_address_id": 0,
            "billing_address_id": 0, "status": "settled", "shipped_timestamp": None,
            "create_timestamp": placed, "created_timestamp": placed, "update_timestamp": placed,
            "updated_timestamp": placed, "payment_adjustments": [],
        }]}

    # -- listings ----------------------------------------------------------------

    def listing(self, listing: SimListing, with_inventory: bool) -> dict[str, Any]:
        cur = self.shop.currency
        created, modified = ts(listing.created_at), ts(listing.modified_at)
        products = []
        for var in listing.variations:
            values = [{"property_id": PROPERTY_ID, "property_name": property_name(listing), "scale_id": None,
                       "scale_name": None, "value_ids": [var.variation_id + 7], "values": [var.option]}]
            products.append({
                "product_id": var.variation_id, "sku": var.sku, "is_deleted": False,
                "offerings": [{"offering_id": var.variation_id * 10 + 1,
                               "quantity": offering_quantity(listing, var.variation_id), "is_enabled": True,
                               "is_deleted": False, "price": money(var.price, cur), "readiness_state_id": None}],
                "property_values": values if listing.has_variations else [],
            })
        body: dict[str, Any] = {
            "listing_id": listing.listing_id, "user_id": self.user_id, "shop_id": self.shop_id,
            "title": listing.title, "description": "", "state": listing.state,
            "creation_timestamp": created, "created_timestamp": created, "ending_timestamp": created + 120 * 86400,
            "original_creation_timestamp": created, "last_modified_timestamp": modified,
            "updated_timestamp": modified, "state_timestamp": modified,
            "quantity": sum(p["offerings"][0]["quantity"] for p in products),
            "url": f"https://www.etsy.com/listing/{listing.listing_id}", "num_favorers": 0,
            "has_variations": listing.has_variations, "listing_type": "physical", "tags": [], "materials": [],
            "who_made": "i_did", "when_made": "made_to_order", "is_supply": False,
            "price": money(min(v.price for v in listing.variations), cur),
            "skus": [v.sku for v in listing.variations if v.sku],
        }
        if with_inventory:
            body["inventory"] = {
                "products": "unavailable" if listing.listing_id in self.bad_listings else products,
                "price_on_property": [], "quantity_on_property": [PROPERTY_ID] if listing.has_variations else [],
                "sku_on_property": [PROPERTY_ID] if listing.has_variations else [],
                "readiness_state_on_property": [],
            }
        return body

    # -- ledger ------------------------------------------------------------------

    def ledger(self) -> list[dict[str, Any]]:
        """Every ledger entry, oldest first, with a running balance."""
        cur = self.shop.currency
        rows: list[tuple[datetime, int, int, str, str, str, str, list[dict[str, Any]]]] = []
        for fee in self.shop.fees:
            rows.append((fee.occurred_at, fee.fee_id, -cents(fee.amount), self.fee_type(fee), *self.fee_ref(fee),
                         fee.description, []))
        for order in self.shop.orders:
            if order.paid:
                rows.append((order.placed_at, order.order_id * 10 + 1, cents(order.total), "PAYMENT_GROSS",
                             "receipt", str(order.order_id), "PAYMENT", []))
            for r in order.refunds:
                adj = [{"payment_adjustment_id": r.refund_id, "payment_id": order.order_id * 10 + 5,
                        "status": "SUCCESS", "is_success": True, "user_id": self.user_id, "reason_code": r.reason,
                        "total_adjustment_amount": cents(r.amount), "shop_total_adjustment_amount": cents(r.amount),
                        "buyer_total_adjustment_amount": cents(r.amount), "total_fee_adjustment_amount": 0,
                        "create_timestamp": ts(r.created_at), "created_timestamp": ts(r.created_at),
                        "update_timestamp": ts(r.created_at), "updated_timestamp": ts(r.created_at),
                        "payment_adjustment_items": []}]
                rows.append((r.created_at, r.refund_id * 10 + 2, -cents(r.amount), "REFUND_GROSS", "receipt",
                             str(order.order_id), "REFUND", adj))
        rows.sort(key=lambda row: (ts(row[0]), row[1]))
        balance = 0
        out = []
        for seq, (when, entry_id, amount, kind, ref_type, ref_id, desc, adj) in enumerate(rows, start=1):
            balance += amount
            entry: dict[str, Any] = {
                "entry_id": entry_id, "ledger_id": self.shop_id * 10, "sequence_number": seq, "amount": amount,
                "currency": cur, "description": desc, "balance": balance, "create_date": ts(when),
                "created_timestamp": ts(when), "ledger_type": kind, "reference_type": ref_type,
                "reference_id": ref_id, "parent_entry_id": 0, "payment_adjustments": adj,
            }
            if entry_id in self.bad_entries:
                entry["amount"] = str(amount)
            out.append(entry)
        return out

    @staticmethod
    def fee_type(fee: SimFee) -> str:
        return LEDGER_TYPES.get(fee.kind, (fee.kind, FeeKind.OTHER))[0]

    @staticmethod
    def fee_ref(fee: SimFee) -> tuple[str, str]:
        if fee.order_id is not None:
            return "receipt", str(fee.order_id)
        if fee.listing_id is not None:
            return "listing", str(fee.listing_id)
        return "etsy", "0"
