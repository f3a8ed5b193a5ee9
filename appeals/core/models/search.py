from django.contrib.postgres.search import SearchVectorField
from django.db import models


class AppealSearch(models.Model):
    """The words an appeal can be found by (see appeals/core/search.py); derived, never edited."""

    appeal = models.OneToOneField("appeals.Appeal", primary_key=True, on_delete=models.CASCADE, related_name="+")
    document = models.TextField(blank=True, default="")
    # PostgreSQL only (GIN-indexed by migration); empty on SQLite, where `document` is searched.
    vector = SearchVectorField(null=True)

    class Meta:
        db_table = "appeals_appealsearch"

    def __str__(self) -> str:
        return f"search row of appeal {self.appeal_id}"
