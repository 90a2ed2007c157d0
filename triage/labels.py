"""Chinese names of states and events, shared by the pages, the API and the bot."""

TIP_STATUS = {
    "received": "已受理",
    "dispatched": "已派单",
    "in_progress": "办理中",
    "replied": "已反馈",
    "closed": "已办结",
    "invalid": "无效件",
    "merged": "重复件",
    "transferred": "已转办",
}

ASSIGNMENT_STATUS = {
    "pending": "待签收",
    "accepted": "已签收",
    "replied": "已反馈",
    "approved": "已审核",
    "returned": "已退回",
    "cancelled": "已撤回",
}

EXTENSION_STATE = {"requested": "延期待审批", "granted": "已延期", "refused": "延期未获批准"}

# What a citizen reads on the status page for each public audit event.
PUBLIC_EVENT = {
    "received": "您的举报已受理",
    "dispatched": "已派至承办单位办理",
    "signed": "承办单位已签收，正在办理",
    "all_replied": "承办单位已反馈办理结果，正在审核",
    "closed": "已办结",
    "extension_granted": "办理期限已延长",
    "back_to_queue": "正在重新派单",
    "reopened": "已重新办理",
    "marked_invalid": "经审核为无效件",
    "merged": "与已有举报合并办理",
    "transferred": "已转至紧急热线",
    "rated": "感谢您的评价",
}

CHANNEL = {"web": "网页", "telegram": "Telegram", "phone": "电话", "api": "接口", "open311": "Open311"}
