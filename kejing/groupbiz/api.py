from ninja import Router

router = Router(tags=["groupbiz"])
