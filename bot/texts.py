"""The bot's Chinese texts: conversation prompts, replies, and the notices rendered from outbox messages."""

from datetime import datetime
from zoneinfo import ZoneInfo

from intake.service import CitizenStatus

# ---- buttons ---------------------------------------------------------------------------------

BTN_REPORT = "举报"
BTN_STATUS = "查询进度"
BTN_HELP = "帮助"
BTN_PHOTOS_DONE = "照片已发完"
BTN_SKIP_PHOTOS = "不上传照片"
BTN_SEND_LOCATION = "发送当前位置"
BTN_SKIP = "跳过"
BTN_ANONYMOUS = "匿名举报"
BTN_SHARE_PHONE = "留下手机号（实名）"
BTN_SUBMIT = "确认提交"
BTN_CANCEL = "取消"
BTN_AS_TYPED = "都不是，按我填写的"
BTN_SIGN = "签收"
SATISFACTION = ("满意", "基本满意", "不满意")

# ---- conversation ----------------------------------------------------------------------------

WELCOME = (
    "您好，这里是河源市12345热线·落后产能举报。\n"
    "可举报：地条钢、违规新建或复产的钢铁、水泥、平板玻璃产能，违规用电，环保问题等。\n"
    "举报人信息依法保密，可以匿名。请选择："
)
HELP = (
    "使用说明：\n"
    "• 点“举报”或直接发送文字，按提示描述问题、上传照片、说明地点。\n"
    "• /status 工单号 查询码 —— 查询办理进度（您本人在此提交的举报无需查询码）。\n"
    "• 办结后我们会在这里通知您结果，并请您评价。\n"
    "• 任何时候发送 /cancel 可取消当前举报。\n"
    "紧急情况（火灾、人身伤害）请直接拨打 119、120 或 110。"
)
ASK_PROBLEM = "请用文字描述您发现的问题：什么企业或场所、在哪里、什么情况、什么时间。"
PROBLEM_TOO_SHORT = "描述太短了，请至少写5个字，说明地点和情况。"
PROBLEM_TOO_LONG = "描述不能超过{limit}字（现为{length}字），请精简后重新发送。"
TEXT_ONLY = "这一步请用文字描述问题（暂不支持语音、贴纸和文件）。"
ASK_PHOTOS = "如有现场照片，请直接发送（可多张，最多{limit}张）；没有请点“{skip}”。"
PHOTO_RECEIVED = "已收到第{count}张照片。可继续发送，发完请点“{done}”。"
PHOTO_LIMIT = "最多上传{limit}张照片，已收到{limit}张。请点“{done}”继续。"
PHOTO_TOO_LARGE = "这张照片太大（超过{mb}MB），请压缩后重新发送。"
PHOTO_WRONG_TYPE = "只接受JPEG、PNG或WebP格式的照片，这个文件无法作为照片上传。"
PHOTOS_EXPECTED = "这一步请发送照片，或点“{done}”继续。"
ASK_PLACE = "问题发生在哪里？请点“{button}”，或直接输入地址（县区、镇、村、路名）。"
PLACE_EXPECTED = "请发送位置，或用文字输入地址。"
PLACE_TOO_LONG = "地址不能超过200字，请精简后重新发送。"
ASK_ENTERPRISE = "涉及哪家企业？请输入企业名称（知道多少写多少），不清楚请点“{skip}”。"
ENTERPRISE_TOO_LONG = "企业名称不能超过200字。"
DID_YOU_MEAN = "您说的是下列企业吗？请选择："
ASK_CONTACT = (
    "是否留下联系方式？\n"
    "• 匿名举报：工作人员看不到您的身份，办理进度仍会在这里通知您。\n"
    "• 实名举报：点按钮分享您的手机号，便于核实情况，号码依法保密，承办单位看不到。"
)
CONTACT_EXPECTED = "请点“{anonymous}”或“{share}”。"
CONTACT_NOT_OWN = "请使用按钮分享您本人的手机号。"
SUMMARY = (
    "请核对您的举报：\n"
    "问题：{text}\n"
    "照片：{photos}张\n"
    "地点：{place}\n"
    "企业：{enterprise}\n"
    "身份：{identity}\n\n"
    "确认无误请点“{submit}”。"
)
NOTED = "好的。"
SUBMITTING = "正在提交，请稍候……"
RECEIPT = (
    "举报已受理，谢谢您！\n"
    "工单号：{ticket}\n"
    "查询码：{code}\n"
    "请妥善保存查询码。办理进度会在这里通知您，也可以发送 /status {ticket} 查询。"
)
SUBMIT_RETRY = "系统繁忙，举报暂未提交成功（没有保存任何内容）。请稍后再点“确认提交”重试。"
SUBMIT_REJECTED = "举报未能提交：{message}"
PHOTO_DOWNLOAD_FAILED = "照片下载失败，请稍后再点“确认提交”重试。"
CANCELLED = "已取消本次举报，没有保存任何内容。需要时请点“举报”重新开始。"
TIMED_OUT = "您已经有一段时间没有回复，本次举报已取消（没有保存任何内容）。需要时请重新开始。"
STALE_BUTTON = "这个按钮已失效。"
NOTHING_TO_CANCEL = "当前没有进行中的举报。"
UNKNOWN_INPUT = "请点“举报”开始，或发送 /help 查看说明。"
BUSY = "系统繁忙，请稍后再试。"

# ---- status ----------------------------------------------------------------------------------

STATUS_USAGE = "用法：/status 工单号 查询码\n例如：/status HY20261128-000123 ABCD234567\n您本人在此提交的举报可省略查询码。"
NO_OWN_TIPS = "您还没有通过本机器人提交过举报。查询其他渠道的举报请发送：/status 工单号 查询码"
OWN_TIPS_HEADER = "您最近的举报："
OWN_TIP_LINE = "• {ticket}  {status}（{received}）"
OWN_TIPS_FOOTER = "发送 /status 工单号 查看详情。"
RATE_THANKS = "感谢您的评价：{value}"


def fmt_time(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def status_text(status: CitizenStatus, tz: ZoneInfo) -> str:
    lines = [
        f"工单号：{status.ticket}",
        f"状态：{status.status_label}",
        f"受理时间：{fmt_time(status.received_at, tz)}",
    ]
    if status.due_at and status.closed_at is None:
        lines.append(f"办理期限：{fmt_time(status.due_at, tz)}")
    if status.closed_at:
        lines.append(f"办结时间：{fmt_time(status.closed_at, tz)}")
    if status.result_summary:
        lines.append(f"办理结果：{status.result_summary}")
    if status.merged_into:
        lines.append(f"已与工单 {status.merged_into} 合并办理")
    if status.transferred_to:
        lines.append(f"已转至 {status.transferred_to}，紧急情况请直接拨打 {status.transferred_to}")
    if status.satisfaction:
        lines.append(f"您的评价：{status.satisfaction}")
    if status.history:
        lines.append("进度：")
        lines += [f"  {fmt_time(h.at, tz)} {h.label}" for h in status.history]
    return "\n".join(lines)


# ---- department chats ------------------------------------------------------------------------

LINK_USAGE = "用法：/link 绑定码（在工作人员页面“Telegram 通知”中生成）"
LINKED = "已绑定：{department}。本群将收到新交办单、催办和超期提醒，可直接点按钮签收。"
SIGNED = "已签收（{who}，{at}）"

# ---- notices from the outbox, by kind --------------------------------------------------------

REPORTER_NOTICES = {
    "tip_dispatched": "您的举报 {ticket} 已派至{department}办理。",
    "tip_closed": "您的举报 {ticket} 已办结。\n办理结果：{result}\n\n请您对本次办理进行评价：",
    "tip_extended": "您的举报 {ticket} 办理期限已延长至 {due}。",
    "tip_invalid": "您的举报 {ticket} 经审核为无效件。原因：{reason}",
    "tip_merged": "您的举报 {ticket} 与工单 {into} 反映的是同一问题，将合并办理，进度请查询 {into}。",
    "tip_transferred": "您的举报 {ticket} 属于紧急情况，已转至 {target}。如情况紧急，请立即拨打 {target}！",
}
DEPARTMENT_NOTICES = {
    "assignment_new": "【新交办单】{ticket}（{role}）\n类别：{category}\n地点：{place}\n问题：{text}\n办理期限：{due}\n请及时签收办理。",
    "assignment_cancelled": "【交办单撤回】{ticket} 已退回重新派单，本单位无需继续办理。",
    "reply_rejected": "【反馈被驳回】{ticket}\n理由：{reason}\n请补充办理后重新反馈。",
    "extension_decided": "【延期审批】{ticket}：{decision}{reason_line}",
    "assignment_reminder": "【催办】{ticket} 请尽快签收办理。办理期限：{due}",
    "assignment_overdue": "【督办·超期】{ticket}（{role}）\n办理期限：{due}，已超期 {days} 天。\n问题：{text}\n{action}",
    "sign_overdue": "【签收超期】{ticket} 已超过签收时限，请立即签收。",
    "sign_reminder": "【签收提醒】{ticket}（{role}）\n请于 {sign_due} 前签收。\n类别：{category}\n地点：{place}\n问题：{text}",
    "exit_list_decided": "【名单变更审批】{name}：{change}\n结果：{decision}{note_line}",
}
OVERDUE_ACTION_SIGN = "本单尚未签收，请立即签收并办理。"
OVERDUE_ACTION_REPLY = "请立即办理并反馈。"
EXIT_APPROVED = "已批准，名单已更新"
EXIT_REJECTED = "未批准"

# Dispatchers work every one of these on their pages too; the chat is a nudge, with a link when known.
DISPATCHER_NOTICES = {
    "overdue_summary": "【督办汇总】新增超期交办单 {count} 件：\n{items}",
    "assignment_replied": "【待审核】{ticket} {department}已提交办结反馈，请审核。",
    "assignment_returned": "【退单】{ticket} {department}退回交办单，请重新派单。\n理由：{reason}",
    "extension_requested": "【延期申请】{ticket} {department}申请延期 {days} 个工作日（现办理期限 {due}），请审批。",
    "tip_unsatisfied": "【回访不满意】{ticket} 市民对办理结果不满意，请决定是否重办。\n问题：{text}",
}
OVERDUE_ITEM = "• {ticket} {department} 超期 {days} 天"
OVERDUE_MORE = "……另有 {more} 件，详见派单员页面"
DETAIL_LINK = "\n详情：{url}"

BUREAU_NOTICES = {
    "exit_list_proposed": "【名单变更申请】{department}申请：{name}（{uscc}）{change}\n理由：{reason}\n请在市局页面审批。",
}
DIGEST_FALLBACK = "【周报】{week}\n{headline}\n完整周报见邮件或周报存档。"
EXIT_CHANGES = {"黄牌": "列入黄牌", "红牌": "列入红牌", "": "移出名单"}
EXIT_RECTIFY_BY = "（限期整改至 {date}）"
PART_MARKER = "（{index}/{total}）\n"
GENERIC_NOTICE = "【工单通知】{ticket}：{kind}"
