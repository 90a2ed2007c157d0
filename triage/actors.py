"""Who acts: a staff user with a role (and a department), a citizen, or the system."""

from dataclasses import dataclass

from models.staff import Role, User
from triage.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    label: str  # written into audit events: "user:3", "citizen", "telegram", "system"
    user_id: int | None = None
    role: str | None = None
    department_code: str | None = None
    display_name: str = ""

    @classmethod
    def of(cls, user: User) -> "Actor":
        return cls(
            label=f"user:{user.id}",
            user_id=user.id,
            role=user.role,
            department_code=user.department_code,
            display_name=user.display_name,
        )

    @property
    def is_dispatcher(self) -> bool:
        return self.role == Role.dispatcher

    @property
    def is_department(self) -> bool:
        return self.role == Role.department

    @property
    def is_bureau(self) -> bool:
        return self.role == Role.bureau


SYSTEM = Actor(label="system")
CITIZEN = Actor(label="citizen")


def require_dispatcher(actor: Actor) -> None:
    if not actor.is_dispatcher:
        raise Forbidden("只有派单员可以执行此操作", "dispatcher_only")


def require_staff(actor: Actor) -> None:
    if actor.role not in {Role.dispatcher, Role.department, Role.bureau}:
        raise Forbidden("需要工作人员登录", "staff_only")
