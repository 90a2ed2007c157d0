"""Staff accounts: argon2 password hashes, login lockout, API bearer tokens, and who may see a reporter."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.staff import ApiToken, Department, Role, User
from models.tips import Reporter, Tip
from triage import audit
from triage.actors import Actor, require_dispatcher
from triage.errors import NotFound, Unauthenticated, ValidationFailed

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    department_code: str | None = None,
) -> User:
    username = username.strip()
    if not username or len(username) > 60:
        raise ValidationFailed("用户名不能为空，且不超过60个字符", "invalid_username")
    if len(password) < 8:
        raise ValidationFailed("密码至少8位", "weak_password")
    if role not in Role.__members__:
        raise ValidationFailed(f"角色只能是：{', '.join(Role.__members__)}", "invalid_role")
    if role == Role.department:
        if not department_code or session.get(Department, department_code) is None:
            raise ValidationFailed("承办单位用户必须绑定一个已存在的单位", "department_required")
    else:
        department_code = None
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationFailed("用户名已存在", "username_taken")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        department_code=department_code,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> User:
    """Check a password; five failures lock the account for 15 minutes (the same answer either way)."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username.strip()))
    failure = Unauthenticated("用户名或密码错误", "bad_credentials")
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time as a real check
        raise failure
    if user.locked_until and user.locked_until > now:
        raise Unauthenticated("登录失败次数过多，账户已暂时锁定，请15分钟后再试", "account_locked")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
        audit.record(session, Actor(label=f"user:{user.id}", user_id=user.id), "login_failed")
        raise failure from None
    user.failed_logins, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str = "") -> str:
    """A new bearer token; only its hash is kept, so it is shown once."""
    token = "hl_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_token_hash(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User:
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked.is_(False))
    )
    if row is None or not row.user.active:
        raise Unauthenticated("令牌无效或已撤销", "bad_token")
    return row.user


@dataclass(frozen=True)
class ReporterIdentity:
    anonymous: bool
    name: str | None
    contact: str | None
    telegram: bool


def reveal_reporter(session: Session, actor: Actor, tip_id: int) -> ReporterIdentity:
    """Only dispatchers see who reported, and every look is audited (举报人信息保密)."""
    require_dispatcher(actor)
    tip = session.get(Tip, tip_id)
    if tip is None:
        raise NotFound("工单不存在", "tip_not_found")
    reporter = session.get(Reporter, tip.reporter_id)
    assert reporter is not None
    audit.record(session, actor, "reporter_viewed", tip_id=tip.id)
    return ReporterIdentity(
        anonymous=reporter.anonymous,
        name=reporter.name,
        contact=reporter.contact,
        telegram=reporter.telegram_user_key is not None,
    )
