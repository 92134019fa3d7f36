"""The after-action report's words in Chinese and English: (zh-CN, en) per key.

Imported by ``muster.review.aar_render``. The report is rendered by the CLI (and
later the web), outside the web's gettext catalogs, so its words live here in one
table, as the bulletin's do (``muster.review.bulletin.LABELS``). Section headings
follow HSEEP's AAR/IP and the Chinese 复盘评估 practice; keep them stable, tests and
readers look for them.
"""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")

SECTIONS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("overview", ("一、事件概况", "1. Overview")),
    ("timeline", ("二、处置过程时间线", "2. Timeline")),
    ("objectives", ("三、目标与能力", "3. Objectives and capabilities")),
    ("departments", ("四、部门协同表现", "4. Department performance")),
    ("strengths", ("五、经验做法", "5. Strengths")),
    ("areas", ("六、存在问题", "6. Areas for improvement")),
    ("plan", ("七、整改措施（改进计划）", "7. Improvement plan")),
    ("appendix", ("附录：数据来源与复核", "Appendix: data and recomputation")),
)

EXERCISE_SECTION = ("演练评估", "Exercise evaluation")
"""The heading of the drill's evaluation, shown after "Department performance" only
in the report of a drill incident generated on its sandbox (not in ``SECTIONS``)."""

LABELS: dict[str, tuple[str, str]] = {
    "title": ("突发事件复盘评估报告", "After-action report and improvement plan"),
    "subtitle": (
        "（AAR/IP，依据事件日志自动生成）",
        "(AAR/IP, generated from the log)",
    ),
    "incident": ("事件名称", "Incident"),
    "type": ("事件类型", "Type"),
    "opened": ("开始时间", "Opened"),
    "closed": ("结束时间", "Closed"),
    "still_open": ("尚未结束（统计至报告生成时）", "still open (counted up to now)"),
    "duration": ("持续时间", "Duration"),
    "highest_level": ("最高响应级别", "Highest response level"),
    "lead": ("牵头部门", "Lead department"),
    "supporting": ("配合部门", "Supporting departments"),
    "plans": ("启动预案", "Plans activated"),
    "counts": ("数量统计", "Counts"),
    "counts_text": (
        "任务 {tasks} 项，会商决策 {decisions} 项，信息报告 {reports} 份，"
        "逐级催办 {escalations} 次",
        "{tasks} tasks, {decisions} decisions, {reports} reports sent, "
        "{escalations} escalation steps",
    ),
    "hours_minutes": ("{h}小时{m}分钟", "{h} h {m} min"),
    "time": ("时间", "Time"),
    "offset": ("T+分钟", "T+min"),
    "offset_note": (
        "下达、签收、完成和时限列为事件开始后的分钟数（T+分钟）。",
        "Assigned, acknowledged, done and due are minutes since the incident opened "
        "(T+min).",
    ),
    "event": ("事件", "Event"),
    "details": ("说明", "Details"),
    "seq": ("序号", "Seq"),
    "pinned": ("【标记】", "[pinned]"),
    "task": ("任务", "Task"),
    "department": ("部门", "Department"),
    "status": ("状态", "Status"),
    "assigned": ("下达", "Assigned"),
    "acknowledged": ("签收", "Acknowledged"),
    "done": ("完成", "Done"),
    "due": ("时限", "Due"),
    "due_by": ("时限", "due"),
    "ack_due": ("签收时限", "Ack due"),
    "ack_timeliness": ("签收", "Ack"),
    "timeliness": ("完成", "Completion"),
    "on_time": ("按时", "on time"),
    "late": ("超时", "late"),
    "pending": ("未到期", "pending"),
    "ad_hoc": ("临时任务", "Ad-hoc tasks"),
    "no_tasks": ("无任务", "No tasks"),
    "ack_latency": ("签收用时 p50/p90（分钟）", "Ack latency p50/p90 (min)"),
    "acks_on_time": ("按时签收", "Acks on time"),
    "tasks_on_time": ("按时完成", "Tasks on time"),
    "reports_on_time": ("按时报告", "Reports on time"),
    "freshness_on_time": ("数据及时", "Freshness"),
    "sharing_answered": ("共享申请答复", "Sharing answered"),
    "decision_participation": ("会商参与", "Decision participation"),
    "tasks_completed": ("完成任务数", "Tasks completed"),
    "records_shared": ("共享记录数", "Records shared"),
    "resources_provided": ("提供资源数", "Resource units provided"),
    "score": ("综合得分", "Score"),
    "score_note": (
        "得分为有数据的过程指标按权重加权的百分比；权重：{weights}。数据及时性"
        "与共享申请计入本事件使用或申请的数据集。",
        "The score is the weighted percentage of the process rates that have data; "
        "weights: {weights}. Freshness and sharing count the datasets this incident "
        "used or requested.",
    ),
    "none_found": ("未发现。", "None found."),
    "events": ("事件序号", "events"),
    "number": ("序号", "No."),
    "item": ("整改事项", "Item"),
    "owner": ("责任部门", "Owner"),
    "due_date": ("完成时限", "Due date"),
    "finding": ("问题类型", "Finding"),
    "source": ("依据事件", "Source events"),
    "plan_note": (
        "完成时限按问题类型自报告生成之日起计算（{days}）。",
        "Due dates count from the report's generation, by kind of finding ({days}).",
    ),
    "days": ("{n}天", "{n} days"),
    "period": ("统计时段", "Period"),
    "log_range": ("日志范围（序号）", "Log range (seqs)"),
    "head_hash": ("链头哈希", "Chain head hash"),
    "generated": ("生成时间", "Generated"),
    "no_events": ("本时段无事件", "no events in the period"),
    "recompute": ("复核方法", "How to recompute"),
    "recompute_text": (
        "先用 muster audit verify 校验日志哈希链至上述链头，再运行下列命令重新生成"
        "本报告；同一日志得到同样的数字。",
        "Verify the log's hash chain up to the head above with muster audit verify, "
        "then run the command below to regenerate this report; the same log gives "
        "the same figures.",
    ),
    "ack_chart": ("各部门任务签收用时", "Acknowledgement latency by department"),
    "gantt_chart": ("任务处置甘特图", "Tasks: assigned → acknowledged → done"),
    "freshness_chart": ("数据时效（距上次更新）", "Data age since last delivery"),
    "minutes": ("分钟", "minutes"),
    "age_minutes": ("数据时龄（分钟）", "age (minutes)"),
    "minutes_since": ("事件开始后分钟数（开始：{opened}）", "minutes since {opened}"),
    "sla": ("更新周期", "SLA"),
    "no_data": ("无数据", "no data"),
    "not_acknowledged": ("未签收", "none"),
    "chart_gantt_alt": ("任务甘特图", "Task Gantt chart"),
    "chart_ack_alt": ("签收用时图", "Acknowledgement latency chart"),
    "chart_freshness_alt": ("数据时效图", "Data freshness chart"),
    "exercise_banner": ("演练 / EXERCISE", "EXERCISE / 演练"),
    "exercise_text": (
        "本报告复盘的是演练中的事件，并非真实突发事件；演练事件均带演练标记。",
        "This report reviews an incident of an exercise, not a real emergency; every "
        "event of the drill carries the exercise mark.",
    ),
    "drill": ("演练编号", "Drill"),
    "scenario": ("演练情景", "Scenario"),
    "evaluation_seq": ("评估事件序号", "Evaluation event seq"),
    "expected_action": ("预期行动", "Expected action"),
    "expected_total": ("预期行动数", "Expected"),
    "capability": ("核心能力", "Capability"),
    "deadline": ("时限", "Deadline"),
    "done_at": ("完成时间", "Done at"),
    "exercise_note": (
        "依据演练情景的评估要点判定：时限内完成为按时，超过时限为迟滞，未完成为缺失；"
        "用时自演练开始（或所响应的情景注入）起计，时间为演练时间（UTC）。",
        "Judged against the scenario's evaluation guide: met by the deadline, late "
        "after it, or missed; minutes count from the start of the drill (or the "
        "inject an action answers), times are scenario time (UTC).",
    ),
}

EXERCISE_STATUSES: dict[str, tuple[str, str]] = {
    "met": ("按时", "met"),
    "late": ("迟滞", "late"),
    "missed": ("缺失", "missed"),
}

EXERCISE_ACTIONS: dict[str, tuple[str, str]] = {
    "open_incident": ("接报立案", "Open the incident"),
    "verify_incident": ("核实事件", "Verify the incident"),
    "activate_plan": ("启动预案", "Activate the plan"),
    "change_level": ("调整响应级别", "Change the response level"),
    "acknowledge_task": ("签收任务", "Acknowledge the task"),
    "start_task": ("开始处置", "Start the task"),
    "complete_task": ("完成任务", "Complete the task"),
    "send_report": ("报送信息", "Send the report"),
    "propose_decision": ("发起会商", "Propose the decision"),
    "sign_decision": ("会商签署", "Sign the decision"),
    "record_facts": ("记录事件要素", "Record the facts"),
}

CATEGORIES: dict[str, tuple[str, str]] = {
    "NATURAL_DISASTER": ("自然灾害", "Natural disaster"),
    "ACCIDENT_DISASTER": ("事故灾难", "Accident"),
    "PUBLIC_HEALTH": ("公共卫生事件", "Public health"),
    "SOCIAL_SECURITY": ("社会安全事件", "Social security"),
}

STATUSES: dict[str, tuple[str, str]] = {
    "assigned": ("已下达", "assigned"),
    "acknowledged": ("已签收", "acknowledged"),
    "in_progress": ("处置中", "in progress"),
    "blocked": ("受阻", "blocked"),
    "done": ("已完成", "done"),
    "declined": ("已退回", "declined"),
    "skipped": ("已跳过", "skipped"),
}

INCIDENT_STATUSES: dict[str, tuple[str, str]] = {
    "reported": ("已接报", "reported"),
    "verified": ("已核实", "verified"),
    "responding": ("响应中", "responding"),
    "recovering": ("恢复中", "recovering"),
    "closed": ("已结束", "closed"),
}

ROLES: dict[str, tuple[str, str]] = {
    "duty_officer": ("值班员", "duty officer"),
    "head": ("负责人", "head"),
    "commander": ("指挥长", "commander"),
}

EVENTS: dict[str, tuple[str, str]] = {
    "response.IncidentOpened": ("事件接报", "Incident opened"),
    "response.IncidentStatusChanged": ("事件状态变更", "Status changed"),
    "response.ResponseActivated": ("启动预案响应", "Plan activated"),
    "response.ResponseLevelChanged": ("响应级别调整", "Response level changed"),
    "response.DecisionProposed": ("发起会商", "Decision proposed"),
    "response.DecisionClosed": ("会商结束", "Decision closed"),
    "response.SituationReportSent": ("报送信息", "Report sent"),
    "response.ReportOverdue": ("信息报告超时", "Report overdue"),
    "response.TaskOverdue": ("任务超时", "Task overdue"),
    "response.EscalationStepReached": ("逐级催办", "Escalation"),
    "response.DepartmentMarkedUnresponsive": ("部门无响应", "Department unresponsive"),
}

FINDINGS: dict[str, tuple[str, str]] = {
    "late_acknowledgement": (
        "{d}：{total}项任务中{count}项签收超时（最长超时{minutes}分钟）：{s}。",
        "{d}: late acknowledgements, {count} of {total} (worst {minutes} min past "
        "the deadline): {s}.",
    ),
    "overdue_task": (
        "{d}：{total}项任务中{count}项未按时完成（最长超时{minutes}分钟）：{s}。",
        "{d}: tasks not done by their due time, {count} of {total} (worst "
        "{minutes} min late): {s}.",
    ),
    "overdue_report": (
        "{d}：{total}次应报信息中{count}次迟报或未报（最长超时{minutes}分钟）：{s}。",
        "{d}: situation reports late or unsent, {count} of {total} due (worst "
        "{minutes} min late): {s}.",
    ),
    "stale_data": (
        "{d}：{s}的{total}次数据更新中{count}次超出更新周期（最多超出{minutes}分钟）。",
        "{d}: deliveries of {s} later than the update interval, {count} of "
        "{total} (worst {minutes} min over).",
    ),
    "refused_data": (
        "{d}：向{o}申请的数据（{s}）被拒绝或未获答复，其后{total}项任务超时。",
        "{d}: data ({s}) from {o} refused or unanswered before {total} of its "
        "tasks went overdue.",
    ),
    "escalation": (
        "{d}：{total}项任务触发逐级催办{count}次（通知：{o}）：{s}。",
        "{d}: escalation steps, {count} on {total} task(s) (notified: {o}): {s}.",
    ),
    "acks_on_time": (
        "{d}：{count}项任务全部按时签收（中位用时{minutes}分钟）。",
        "{d}: every task acknowledged on time ({count}; median {minutes} min).",
    ),
    "tasks_on_time": (
        "{d}：{count}项任务全部按时完成：{s}。",
        "{d}: every task done by its due time ({count}): {s}.",
    ),
    "reports_on_time": (
        "{d}：{count}次信息报告全部按时报送。",
        "{d}: every due situation report sent on time ({count}).",
    ),
    "data_fresh": (
        "{d}：{s}的{count}次数据更新全部在更新周期内。",
        "{d}: every delivery of {s} within the update interval ({count}).",
    ),
    "fast_sharing": (
        "{d}：{count}项数据共享申请全部答复（中位用时{minutes}分钟）。",
        "{d}: answered every request for data ({count}; median {minutes} min).",
    ),
    "decision_on_time": (
        "会商“{s}”在时限前{minutes}分钟形成结论（参与：{o}）。",
        "Joint decision “{s}” concluded {minutes} min before its deadline (with {o}).",
    ),
}

FINDING_KINDS: dict[str, tuple[str, str]] = {
    "late_acknowledgement": ("签收超时", "Late acknowledgement"),
    "overdue_task": ("任务超时", "Overdue task"),
    "overdue_report": ("迟报漏报", "Overdue report"),
    "stale_data": ("数据不及时", "Stale data"),
    "refused_data": ("数据共享受阻", "Data refused"),
    "escalation": ("逐级催办", "Escalation"),
}


def index_of(language: str) -> int:
    """Return the column of a language in the tables (0: Chinese, 1: English)."""
    return 0 if language.startswith("zh") else 1


__all__ = [
    "CATEGORIES",
    "EVENTS",
    "EXERCISE_ACTIONS",
    "EXERCISE_SECTION",
    "EXERCISE_STATUSES",
    "FINDINGS",
    "FINDING_KINDS",
    "INCIDENT_STATUSES",
    "LABELS",
    "LANGUAGES",
    "ROLES",
    "SECTIONS",
    "STATUSES",
    "index_of",
]
