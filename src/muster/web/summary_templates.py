"""The message templates of the live feed's event summaries (translatable).

Imported by ``web.summaries``; one template per event wire name.
"""

from __future__ import annotations

from muster.web.i18n import N_

TEMPLATES: dict[str, str] = {
    "response.IncidentOpened": N_("%(department)s opened incident “%(title)s”"),
    "response.IncidentFactsRecorded": N_(
        "%(actor)s recorded facts about incident “%(incident)s”"
    ),
    "response.IncidentStatusChanged": N_(
        "%(actor)s marked incident “%(incident)s” %(status)s"
    ),
    "response.ResponseActivated": N_(
        "%(actor)s activated %(plan)s at %(level)s for “%(incident)s”; "
        "%(department)s leads"
    ),
    "response.ResponseLevelChanged": N_(
        "Response to “%(incident)s” changed from %(from_level)s to %(level)s"
    ),
    "response.DepartmentMarkedUnresponsive": N_(
        "%(department)s did not respond on “%(incident)s”"
    ),
    "response.ReportDueSet": N_("%(report)s on “%(incident)s” is due at %(due)s UTC"),
    "response.ReportOverdue": N_("%(report)s on “%(incident)s” is overdue"),
    "response.SituationReportSent": N_(
        "%(department)s sent a situation report on “%(incident)s”"
    ),
    "response.TaskAssigned": N_("Task “%(task)s” was assigned to %(department)s"),
    "response.TaskAcknowledged": N_("%(department)s acknowledged “%(task)s”"),
    "response.TaskStarted": N_("%(department)s started “%(task)s”"),
    "response.TaskCompleted": N_("%(department)s completed “%(task)s”"),
    "response.TaskDeclined": N_("%(department)s declined “%(task)s”: %(reason)s"),
    "response.TaskBlocked": N_("%(department)s is blocked on “%(task)s”: %(reason)s"),
    "response.TaskReassigned": N_(
        "“%(task)s” was moved from %(from_department)s to %(department)s: %(reason)s"
    ),
    "response.TaskSkipped": N_("“%(task)s” was skipped: %(reason)s"),
    "response.ChecklistItemChecked": N_("The checklist of “%(task)s” was updated"),
    "response.TaskOverdue": N_("“%(task)s” of %(department)s is overdue"),
    "response.EscalationStepReached": N_(
        "“%(task)s” is still unacknowledged: %(role)s of %(notify_department)s notified"
    ),
    "response.DecisionProposed": N_(
        "%(actor)s proposed a joint decision: “%(decision)s”"
    ),
    "response.DecisionSigned": N_("%(department)s signed “%(decision)s”: %(position)s"),
    "response.DecisionClosed": N_("Joint decision “%(decision)s”: %(outcome)s"),
    "response.PlanRegistered": N_("Plan %(plan)s version %(version)s was registered"),
    "response.EscalationChainSet": N_("The escalation chain of %(department)s was set"),
    "identity.DepartmentRegistered": N_("Department %(department)s joined Muster"),
    "identity.DepartmentUpdated": N_("Department %(department)s was updated"),
    "identity.UserRegistered": N_("%(name)s joined %(department)s"),
    "identity.UserLanguageChanged": N_("%(name)s changed their interface language"),
    "identity.PasswordSet": N_("A password was set for %(name)s"),
    "identity.UserSignedIn": N_("%(name)s signed in"),
    "identity.UserSignedOut": N_("%(name)s signed out"),
    "identity.SignInFailed": N_("Failed sign-in for “%(username)s” (%(reason)s)"),
    "identity.AccessRefused": N_("%(actor)s was refused: %(action)s"),
    "identity.ApiKeyIssued": N_("API key %(key)s was issued for %(department)s"),
    "identity.ApiKeyRevoked": N_("API key %(key)s was revoked"),
    "catalog.DatasetRegistered": N_("%(department)s registered dataset %(dataset)s"),
    "catalog.DatasetSchemaVersioned": N_(
        "Dataset %(dataset)s has schema version %(version)s"
    ),
    "catalog.DatasetUpdated": N_("Dataset %(dataset)s was updated"),
    "ingest.BatchIngested": N_(
        "%(submitter)s submitted %(dataset)s: %(accepted)s stored, "
        "%(quarantined)s quarantined"
    ),
    "ingest.ObservationsIngested": N_(
        "%(submitter)s submitted %(count)s observations to %(dataset)s "
        "(%(quarantined)s quarantined)"
    ),
    "ingest.CapAlertReceived": N_(
        "CAP %(msg_type)s “%(identifier)s” received from %(sender)s"
    ),
    "ingest.DistributionReceived": N_(
        "EDXL-DE envelope from %(sender)s received with %(count)s CAP alerts"
    ),
    "ingest.ResourceMessageReceived": N_(
        "EDXL-RM message %(message_type)s received (%(count)s items)"
    ),
    "ingest.DocumentRejected": N_(
        "A %(format)s document for %(dataset)s was refused and quarantined: %(reason)s"
    ),
    "ingest.RecordResubmitted": N_(
        "%(actor)s fixed a quarantined record of %(dataset)s; it was stored"
    ),
    "ingest.RecordDiscarded": N_(
        "%(actor)s discarded a quarantined item of %(dataset)s: %(reason)s"
    ),
    "ingest.QualityChanged": N_(
        "Data quality of %(dataset)s: %(measure)s is now %(status)s"
    ),
    "ingest.DuplicateReceived": N_(
        "A repeated delivery to %(dataset)s was recorded, not stored twice"
    ),
}
# The same events without a dataset (a CAP alert posted for no dataset, say).
WITHOUT_DATASET: dict[str, str] = {
    "ingest.DocumentRejected": N_(
        "A %(format)s document was refused and quarantined: %(reason)s"
    ),
    "ingest.RecordDiscarded": N_("%(actor)s discarded a refused document: %(reason)s"),
    "ingest.DuplicateReceived": N_(
        "A repeated CAP alert was recorded, not stored twice"
    ),
}


__all__ = ["TEMPLATES", "WITHOUT_DATASET"]
