"""The enterprise register (企业名录), with the 黄牌/红牌 exit lists."""

from datetime import date, datetime

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    county: Mapped[str] = mapped_column(String(20))
    town: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    industry: Mapped[str] = mapped_column(String(60), default="")
    industry_code: Mapped[str] = mapped_column(String(8), default="")
    legal_rep: Mapped[str] = mapped_column(String(60), default="")
    founded: Mapped[date | None]
    reg_capital_wan: Mapped[float | None] = mapped_column(Numeric(14, 2))
    reg_status: Mapped[str] = mapped_column(String(20), default="存续")
    # "" (none), "黄牌" (must rectify by a date) or "红牌" (closed).
    exit_list: Mapped[str] = mapped_column(String(4), default="")
    exit_list_date: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
