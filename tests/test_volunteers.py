"""Volunteers: invite codes, residents' profiles on the volunteer's phone, learning with them,
hands-on checks, and the residents' list — on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import sqlalchemy as sa
from dialog import Dialog, Press, Say, make_engine, play
from server import PROJECT

from bot.engine.ports import Repository
from storage.db import make_engine as make_db_engine
from storage.db import migrate
from storage.memory import MemoryRepository
from storage.records import LearnerKey
from storage.repository import SqlRepository
from storage.volunteers import create_invite, find_invite

PROFILE = [
    (Say("xin chào"), "Bạn có đồng ý không?"),
    (Press("Đồng ý"), "Câu 1/3"),
    (Press("Người dân"), "Câu 2/3"),
    (Press("Nà Lài"), "Câu 3/3"),
    (Press("Bỏ qua"), "Bạn muốn làm gì?"),
]


def invite(repository: Repository, org: str) -> str:
    """A valid invite code on any backend."""
    if isinstance(repository, MemoryRepository):
        repository.add_invite("TNV-ABCD2345", org)
        return "TNV-ABCD2345"
    assert isinstance(repository, SqlRepository)
    return create_invite(repository.engine, org)


def become_volunteer(dialog: Dialog, code: str, org: str) -> None:
    """Consent, profile, then the invite code typed in the menu."""
    play(
        dialog,
        [*PROFILE, (Say(code.lower().replace("-", " ")), (org, "Việc tình nguyện"))],
    )


def test_an_invite_code_makes_a_volunteer_with_a_menu(repository: Repository) -> None:
    code = invite(repository, "Đoàn Thanh niên xã")
    dialog = Dialog(make_engine(repository), chat_id="vol-1")
    become_volunteer(dialog, code, "Đoàn Thanh niên xã")
    assert "➕ Thêm người được giúp" in dialog.labels()
    play(dialog, [(Press("Về menu chính"), "Bạn muốn làm gì?")])
    assert "🤝 Việc tình nguyện" in dialog.labels()
    snapshot = repository.load(LearnerKey("test", "vol-1"))
    assert snapshot is not None and snapshot.volunteer is not None
    assert snapshot.volunteer.org == "Đoàn Thanh niên xã"
    assert len(snapshot.volunteer.referral_code) == 6
    # A second code does nothing; a wrong code is refused politely; plain learners see no menu.
    play(dialog, [(Say(code), "đã là tình nguyện viên")])
    other = Dialog(make_engine(repository), chat_id="resident-9")
    play(other, [*PROFILE, (Say("TNV-ZZZZ9999"), "không đúng hoặc đã hết hạn")])
    assert "🤝 Việc tình nguyện" not in other.labels()


def test_learning_with_a_resident_counts_for_the_resident_with_the_volunteer_as_helper(
    repository: Repository,
) -> None:
    code = invite(repository, "Tổ công nghệ số cộng đồng")
    dialog = Dialog(make_engine(repository), chat_id="vol-2")
    become_volunteer(dialog, code, "Tổ công nghệ số")
    play(
        dialog,
        [
            (Press("Thêm người được giúp"), "tên gọi"),
            (Say("0912345678"), "không có dãy số"),
            (Say("Bà Tư xóm 3"), "Bà Tư xóm 3 thuộc nhóm nào?"),
            (Press("Người dân"), "ở thôn nào?"),
            (Press("Nà Lài"), "sinh năm nào?"),
            (Say("1948"), ("đọc cho Bà Tư xóm 3 nghe", "có đồng ý không?")),
            (Press("Đã hỏi"), ("Đã tạo hồ sơ", "👥 Đang học cùng Bà Tư xóm 3", "Bạn muốn làm gì?")),
            (Press("Học tiếp"), ("Đang học cùng Bà Tư", "Giữ bí mật mã OTP (1/2)")),
            (Press("Tiếp"), "(2/2)"),
            (Press("Làm bài kiểm tra"), "Câu 1/2"),
            (Press("Cúp máy"), "Đúng rồi"),
            (Say("156"), ("Chúc mừng", "Đang học cùng Bà Tư")),
            (Press("Xong, về tài khoản"), ("Đã về tài khoản của bạn", "Việc tình nguyện")),
        ],
    )
    volunteer = repository.load(LearnerKey("test", "vol-2"))
    assert volunteer is not None
    # The volunteer's own record is untouched; the resident has the completion.
    assert volunteer.completed_lessons == frozenset()
    residents = repository.residents_of(volunteer.learner_id)
    assert [(r.nickname, r.completed) for r in residents] == [("Bà Tư xóm 3", 1)]
    resident = repository.load(LearnerKey("assisted", residents[0].token))
    assert resident is not None
    assert resident.completed_lessons == frozenset({"demo-otp"})
    assert resident.profile.birth_year == 1948 and resident.profile.hamlet_id == "na-lai"
    assert_helped_by(repository, resident.learner_id, volunteer.learner_id)


def assert_helped_by(repository: Repository, resident_id: int, volunteer_id: int) -> None:
    """Every progress event of the resident names the volunteer as helper; consent in person."""
    if isinstance(repository, MemoryRepository):
        assert set(repository.helpers(resident_id)) == {volunteer_id}
        assert [c.method for c in repository.consents(resident_id)] == ["in_person"]
        return
    assert isinstance(repository, SqlRepository)
    with repository.engine.connect() as connection:
        helpers = connection.execute(
            sa.text("SELECT DISTINCT helper_id FROM progress_event WHERE learner_id = :r"),
            {"r": resident_id},
        ).scalars()
        assert set(helpers) == {volunteer_id}
        consent = connection.execute(
            sa.text("SELECT method FROM consent WHERE learner_id = :r"), {"r": resident_id}
        ).scalar_one()
        assert consent == "in_person"
        assisted_by = connection.execute(
            sa.text("SELECT assisted_by FROM learner WHERE id = :r"), {"r": resident_id}
        ).scalar_one()
        assert assisted_by == volunteer_id


def test_residents_list_checks_and_revisit(repository: Repository) -> None:
    code = invite(repository, "Đoàn Thanh niên")
    dialog = Dialog(make_engine(repository), chat_id="vol-3")
    become_volunteer(dialog, code, "Đoàn Thanh niên")
    play(
        dialog,
        [
            (Press("Thêm người được giúp"), "tên gọi"),
            (Say("Ông Sáu"), "thuộc nhóm nào?"),
            (Press("Người dân"), "ở thôn nào?"),
            (Press("Nà Lài"), "sinh năm nào?"),
            (Press("Bỏ qua"), "có đồng ý không?"),
            (Press("Đã hỏi"), "Đang học cùng Ông Sáu"),
            (Say("về tài khoản của tôi"), "Đã về tài khoản của bạn"),
            (Press("Người tôi đang giúp"), ("1. Ông Sáu: đã học xong 0 bài", "cần quay lại")),
            (Press("Ông Sáu"), ("Ông Sáu: đã học xong 0 bài", "nên ghé lại")),
            (Press("Xác nhận kỹ năng"), ("⬜ Đã cài VNeID và kích hoạt mức 2", "tận mắt")),
            (Press("Đã cài VNeID"), ("Đã ghi nhận", "✅ Đã cài VNeID và kích hoạt mức 2")),
            (Press("nền tảng Bình dân học vụ số"), ("xác nhận chính thức là trên VNeID",)),
            (Press("Quay lại"), "Bạn muốn làm gì?"),
            (Press("Quay lại"), "2 kỹ năng đã xác nhận"),
        ],
    )
    assert not any("Đã cài VNeID" in label for label in dialog.labels())


def test_a_resident_not_consenting_stores_nothing(repository: Repository) -> None:
    code = invite(repository, "Đoàn Thanh niên")
    dialog = Dialog(make_engine(repository), chat_id="vol-4")
    become_volunteer(dialog, code, "Đoàn Thanh niên")
    play(
        dialog,
        [
            (Press("Thêm người được giúp"), "tên gọi"),
            (Say("Bà Năm"), "thuộc nhóm nào?"),
            (Press("Người dân"), "ở thôn nào?"),
            (Press("Nà Lài"), "sinh năm nào?"),
            (Press("Bỏ qua"), "có đồng ý không?"),
            (Press("Chưa đồng ý"), "Chưa lưu gì cả"),
        ],
    )
    volunteer = repository.load(LearnerKey("test", "vol-4"))
    assert volunteer is not None
    assert repository.residents_of(volunteer.learner_id) == []


def test_a_volunteer_deletes_an_assisted_profile_at_the_residents_request(
    repository: Repository,
) -> None:
    code = invite(repository, "Đoàn Thanh niên")
    dialog = Dialog(make_engine(repository), chat_id="vol-5")
    become_volunteer(dialog, code, "Đoàn Thanh niên")
    play(
        dialog,
        [
            (Press("Thêm người được giúp"), "tên gọi"),
            (Say("Bà Bảy"), "thuộc nhóm nào?"),
            (Press("Người dân"), "ở thôn nào?"),
            (Press("Nà Lài"), "sinh năm nào?"),
            (Press("Bỏ qua"), "có đồng ý không?"),
            (Press("Đã hỏi"), "Đang học cùng Bà Bảy"),
            (Say("xóa dữ liệu"), "Đang học cùng Bà Bảy"),
        ],
    )
    play(dialog, [(Press("Xóa hết dữ liệu"), "Việc tình nguyện")])
    volunteer = repository.load(LearnerKey("test", "vol-5"))
    assert volunteer is not None and volunteer.state == "volunteer"
    assert repository.residents_of(volunteer.learner_id) == []


def test_invites_expire_and_are_stored_hashed(sqlite_url: str) -> None:
    engine = make_db_engine(sqlite_url)
    migrate(engine)
    code = create_invite(engine, "Đoàn Thanh niên", days=30)
    assert find_invite(engine, code) is not None
    with engine.begin() as connection:
        stored = connection.execute(sa.text("SELECT code_hash FROM volunteer_invite")).scalar_one()
        assert code not in stored
        connection.execute(
            sa.text("UPDATE volunteer_invite SET expires_at = :t"),
            {"t": dt.datetime.now(dt.UTC) - dt.timedelta(days=1)},
        )
    assert find_invite(engine, code) is None


def test_volunteers_invite_command_prints_a_working_code(sqlite_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", "volunteers", "invite", "--org", "Đoàn Thanh niên"],
        cwd=PROJECT,
        env={"HOCVUSO_DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    code = result.stdout.split()[-1]
    assert code.startswith("TNV-")
    engine = make_db_engine(sqlite_url)
    found = find_invite(engine, code)
    assert found is not None and found.org == "Đoàn Thanh niên"


def test_the_officials_overview_counts_signed_off_checks(migrated_engine: sa.Engine) -> None:
    from bot.content import load_content
    from bot.paths import core_path
    from storage.stats import coverage_counts

    repository = SqlRepository(migrated_engine)
    code = create_invite(migrated_engine, "Đoàn Thanh niên")
    dialog = Dialog(make_engine(repository), chat_id="vol-6")
    become_volunteer(dialog, code, "Đoàn Thanh niên")
    play(
        dialog,
        [
            (Press("Thêm người được giúp"), "tên gọi"),
            (Say("Bà Hai"), "thuộc nhóm nào?"),
            (Press("Người dân"), "ở thôn nào?"),
            (Press("Nà Lài"), "sinh năm nào?"),
            (Press("Bỏ qua"), "có đồng ý không?"),
            (Press("Đã hỏi"), "Đang học cùng Bà Hai"),
            (Press("Xong, về tài khoản"), "Việc tình nguyện"),
            (Press("Người tôi đang giúp"), "Bà Hai"),
            (Press("Bà Hai"), "Bạn muốn làm gì?"),
            (Press("Xác nhận kỹ năng"), "tận mắt"),
            (Press("chuyển khoản bằng mã QR"), "Đã ghi nhận"),
            (Press("nền tảng Bình dân học vụ số"), "Đã ghi nhận"),
        ],
    )
    content = load_content(PROJECT / "tests" / "fixtures" / "dialog")
    paths = {"adult": core_path(content, "adult")}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    counts = {(c.group, c.hamlet_id): c for c in coverage_counts(migrated_engine, paths, later)}
    adults = counts["adult", "na-lai"]
    # The volunteer and the resident are both adults of Nà Lài; only the resident has checks.
    assert (adults.enrolled, adults.hands_on, adults.vneid_confirmed) == (2, 1, 1)
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    assert all(c.hands_on == 0 for c in coverage_counts(migrated_engine, paths, earlier))


def test_the_volunteer_menu_gives_a_referral_link_qr_and_code(repository: Repository) -> None:
    from dialog import FIXTURES, TODAY

    from bot.assistant import Assistant
    from bot.commune import load_commune
    from bot.content import load_content
    from bot.engine.engine import Engine

    code = invite(repository, "Đoàn Thanh niên")
    content = load_content(FIXTURES)
    engine = Engine(
        repository,
        content,
        load_commune(FIXTURES / "commune.yaml"),
        Assistant(content),
        today=lambda: TODAY,
        bot_username="hocvuso_xa_bot",
    )
    dialog = Dialog(engine, chat_id="vol-7")
    become_volunteer(dialog, code, "Đoàn Thanh niên")
    snapshot = repository.load(LearnerKey("test", "vol-7"))
    assert snapshot is not None and snapshot.volunteer is not None
    referral = snapshot.volunteer.referral_code
    play(
        dialog,
        [
            (
                Press("Link giới thiệu"),
                (f"https://t.me/hocvuso_xa_bot?start=ref-{referral}", referral, "Việc tình nguyện"),
            )
        ],
    )
    images = [r.image for r in dialog.last if r.image]
    assert images == [f"qr:https://t.me/hocvuso_xa_bot?start=ref-{referral}"]
    # A resident typing the code is recorded as referred by this volunteer.
    resident = Dialog(engine, chat_id="res-7")
    play(resident, [(Say(f"ref {referral}"), "Bạn có đồng ý không?")])
    resident.send(Press("Đồng ý"))
    joined = repository.load(LearnerKey("test", "res-7"))
    assert joined is not None
