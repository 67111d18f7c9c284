from django.contrib import admin

from .models import BillRun, GroupAccount, GroupUser, Member, OutsideNumber, PaymentPlan, UserMember, Vsub


@admin.register(GroupAccount)
class GroupAccountAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "ec", "kind", "invoice_type", "payment_type", "late_fee")
    list_filter = ("kind", "payment_type")
    search_fields = ("number", "name", "ec__name", "ec__ec_code")
    raw_id_fields = ("ec", "parent")


@admin.register(GroupUser)
class GroupUserAdmin(admin.ModelAdmin):
    list_display = ("code", "ec", "product_code", "package_code", "account", "status")
    search_fields = ("code", "ec__name", "product_code", "package_code")
    raw_id_fields = ("ec", "account", "vsub")


@admin.register(Vsub)
class VsubAdmin(admin.ModelAdmin):
    list_display = ("code", "ec", "bundle_code", "account")
    raw_id_fields = ("ec", "account")


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("msisdn", "name", "ec", "added_at")
    search_fields = ("msisdn", "name", "ec__name")
    raw_id_fields = ("ec",)


@admin.register(UserMember)
class UserMemberAdmin(admin.ModelAdmin):
    list_display = ("member", "group_user", "short_number")
    search_fields = ("member__msisdn", "short_number")
    raw_id_fields = ("member", "group_user")


@admin.register(PaymentPlan)
class PaymentPlanAdmin(admin.ModelAdmin):
    list_display = ("ec", "item", "member", "product_code", "account", "cap")
    raw_id_fields = ("ec", "member", "account")


@admin.register(OutsideNumber)
class OutsideNumberAdmin(admin.ModelAdmin):
    list_display = ("number", "group_user", "note")
    raw_id_fields = ("group_user",)


@admin.register(BillRun)
class BillRunAdmin(admin.ModelAdmin):
    list_display = ("ec", "month", "status", "run_key", "computed_at")
    list_filter = ("month", "status")
    raw_id_fields = ("ec", "job")
