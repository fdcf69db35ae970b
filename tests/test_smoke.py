def test_app_boots_and_uses_the_migrated_schema(client, app_ctx):
    from sqlalchemy import inspect

    from paywall.extensions import db

    assert {"readers", "articles", "meter_views"} <= set(inspect(db.engine).get_table_names())
    assert client.get("/").status_code == 200
