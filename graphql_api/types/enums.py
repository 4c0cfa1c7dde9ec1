"""The closed vocabularies of models/enums.py as GraphQL enums (values are the names)."""

from __future__ import annotations

import strawberry

from models import enums as e

CustomerKind = strawberry.enum(e.CustomerKind)
CustomerSource = strawberry.enum(e.CustomerSource)
Importance = strawberry.enum(e.Importance)
Intent = strawberry.enum(e.Intent)
CustomerStatus = strawberry.enum(e.CustomerStatus)
FollowUpKind = strawberry.enum(e.FollowUpKind)
ReceptionKind = strawberry.enum(e.ReceptionKind)
VisitorClass = strawberry.enum(e.VisitorClass)
Venue = strawberry.enum(e.Venue)
ReceptionOutcome = strawberry.enum(e.ReceptionOutcome)
ComplaintChannel = strawberry.enum(e.ComplaintChannel)
ComplaintType = strawberry.enum(e.ComplaintType)
ComplaintCause = strawberry.enum(e.ComplaintCause)
Severity = strawberry.enum(e.Severity)
ComplaintStatus = strawberry.enum(e.ComplaintStatus)
Rating = strawberry.enum(e.Rating)
Quality3 = strawberry.enum(e.Quality3)
CapitalStrength = strawberry.enum(e.CapitalStrength)
CreditLineKind = strawberry.enum(e.CreditLineKind)
CreditLineStatus = strawberry.enum(e.CreditLineStatus)
Level = strawberry.enum(e.Level, description="Classification level (密级), PUBLIC < … < TOP_SECRET.")
AuditOutcome = strawberry.enum(e.AuditOutcome)
TransactionKind = strawberry.enum(e.TransactionKind)
