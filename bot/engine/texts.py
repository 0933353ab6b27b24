"""Every sentence a learner reads, in one place, so a teacher can review the tone.

Short, polite, plain Vietnamese; emoji only as signposts.
"""

from __future__ import annotations

PRIVACY_NOTICE = (
    "Xin chào! 👋 Mình là trợ lý học kỹ năng số của xã, trong phong trào "
    "“Bình dân học vụ số”.\n\n"
    "Trước khi học, bạn đọc giúp mình lưu ý nhỏ:\n"
    "🔒 Mình chỉ lưu nhóm của bạn, thôn bạn ở, năm sinh (nếu bạn muốn) và kết quả học, "
    "để xã biết bao nhiêu người đã học.\n"
    "🚫 Mình không hỏi số căn cước, mật khẩu hay số tài khoản.\n"
    "🗑️ Bạn có thể xóa dữ liệu của mình bất cứ lúc nào: gõ “xóa dữ liệu”.\n\n"
    "Bạn có đồng ý không?"
)
PRIVACY_DETAILS = (
    "📄 Chi tiết về dữ liệu của bạn:\n"
    "• Mình lưu: nhóm (người dân, học sinh, cán bộ, người lao động), thôn, năm sinh nếu bạn "
    "cho, bài đã học, câu trả lời trong bài kiểm tra.\n"
    "• Để làm gì: đếm xem mỗi thôn, mỗi nhóm đã có bao nhiêu người học, theo kế hoạch "
    "của xã. Cán bộ chỉ xem số tổng, không xem tên hay tin nhắn của bạn.\n"
    "• Mình không lưu gì trước khi bạn bấm “Đồng ý”.\n"
    "• Bạn gõ “xóa dữ liệu” bất cứ lúc nào để xóa dữ liệu của mình. Xã chỉ giữ lại "
    "số đếm chung, không có tên hay tài khoản của bạn.\n"
    "Việc này theo Luật Bảo vệ dữ liệu cá nhân (Luật số 91/2025/QH15)."
)
CONSENT_DECLINED = (
    "Không sao ạ. Mình chưa lưu gì về bạn.\n"
    "Khi nào muốn học, bạn bấm “Đồng ý” hoặc gõ “đồng ý” nhé."
)
CONSENT_THANKS = "Cảm ơn bạn! 🙏 Mình hỏi 3 câu ngắn thôi nhé."

ASK_GROUP = "Câu 1/3: Bạn thuộc nhóm nào?"
ASK_HAMLET = "Câu 2/3: Bạn ở thôn nào?"
ASK_HAMLET_AGAIN = "Mình chưa thấy thôn đó. Bạn bấm tên thôn bên dưới, hoặc gõ số nhé."
ASK_BIRTH_YEAR = (
    "Câu 3/3: Bạn sinh năm nào? Bạn gõ 4 số, ví dụ 1965.\nKhông muốn trả lời thì bấm “Bỏ qua”."
)
BIRTH_YEAR_INVALID = "Năm sinh chưa đúng. Bạn gõ 4 số, ví dụ 1965, hoặc bấm “Bỏ qua” nhé."
PROFILE_DONE = "Xong rồi! 🎉 Giờ mình cùng học nhé."

MENU = "📋 Bạn muốn làm gì?"
WELCOME_BACK = "Chào bạn quay lại! 👋"
UNKNOWN = "Mình chưa hiểu ý bạn. Bạn bấm một nút bên dưới, hoặc gõ số 1, 2, 3… nhé."
STALE_BUTTON = "Nút đó là của tin nhắn cũ rồi. Bạn dùng các nút mới nhất bên dưới nhé."
BUSY = "Hệ thống đang bận một chút. Bạn gửi lại giúp mình nhé."
EMPTY = "Mình chưa nhận được chữ nào. Bạn gõ lại giúp mình nhé."
MEDIA_NOT_READ = (
    "Mình chưa xem được hình ảnh, nhãn dán hay tệp gửi kèm. 🙏\n"
    "Bạn gõ chữ hoặc số để trả lời nhé. Gõ “menu” để về trang chính."
)

HELP = (
    "ℹ️ Cách dùng:\n"
    "• Bấm nút, hoặc gõ số thứ tự (1, 2, 3…), hoặc gõ chữ, có dấu hay không dấu đều được.\n"
    "• Gõ “menu” bất cứ lúc nào để về trang chính.\n"
    "• Muốn xóa dữ liệu của bạn: gõ “xóa dữ liệu”, hoặc bấm “🗑️ Xóa dữ liệu của tôi” "
    "ở mục Trợ giúp.\n"
    "• Cần người hướng dẫn tận nơi: bạn hỏi Tổ công nghệ số cộng đồng ở thôn, "
    "hoặc Đoàn Thanh niên xã."
)

SKILLS = "📚 Bạn muốn học chủ đề nào?"
NO_LESSONS = "Chủ đề này chưa có bài học. Bạn chọn chủ đề khác nhé."
SKILL_LESSONS = "Các bài trong chủ đề “{skill}”:"
ALL_DONE = "🎉 Bạn đã học xong tất cả các bài hiện có. Giỏi quá! Bạn có thể học lại bài bất kỳ."

LESSON_CARD = "📖 {title} ({index}/{total})\n\n{text}"
LESSON_NO_QUIZ = "✅ Bạn đã đọc xong bài “{title}”."

QUIZ_INTRO = "📝 Bài kiểm tra ngắn: {count} câu. Đúng từ {pass_mark} câu trở lên là đạt."
QUIZ_QUESTION = "❓ Câu {index}/{total}: {text}"
QUIZ_TYPE_ANSWER = "✍️ Bạn gõ câu trả lời nhé."
QUIZ_PICK_OPTION = "Bạn bấm một đáp án, hoặc gõ số {numbers} nhé."
ANSWER_RIGHT = "✅ Đúng rồi! {explanation}"
ANSWER_WRONG = "❌ Chưa đúng. {explanation}"
ANSWER_WRONG_CORRECT = "👉 Đáp án đúng: “{answer}”. {explanation}"
ANSWER_WRONG_TEXT = "❌ Chưa đúng. Đáp án đúng: “{answer}”.\n{explanation}"
ANSWER_SKIPPED = "👉 Đáp án đúng: “{answer}”.\n{explanation}"

RESULT_PASSED = "🎉 Chúc mừng! Bạn trả lời đúng {score}/{total} câu và đã hoàn thành bài “{title}”."
RESULT_FAILED = (
    "Bạn trả lời đúng {score}/{total} câu. Cần đúng {pass_mark} câu để đạt.\n"
    "Không sao cả, bạn đọc lại bài rồi làm lại nhé. 💪"
)

PROGRESS = "📊 Tiến độ của bạn: đã hoàn thành {done}/{total} bài."
PROGRESS_NONE = "📊 Bạn chưa hoàn thành bài nào. Bấm “Học tiếp” để bắt đầu nhé."

# The certificate for completing a group's core path (bot/engine/certificates.py).
CERTIFICATE_EARNED = (
    "🎓 Bạn đã học xong các bài cơ bản của nhóm “{group}”. Xin chúc mừng!\n"
    "Đây là Giấy chứng nhận hoàn thành của bạn.\n"
    "🔑 Mã chứng nhận: {code}"
)
CERTIFICATE_CHECK_AT = "🔍 Ai cũng kiểm tra được giấy này tại:\n{url}"
CERTIFICATE_CHECK_CODE = "🔍 Bạn giữ mã này. Cán bộ xã dùng mã để kiểm tra giấy khi cần."
CERTIFICATE_NOT_OFFICIAL = (
    "ℹ️ Lưu ý: giấy này do trợ lý học tập của xã cấp, không thay cho xác nhận chính thức.\n"
    "Muốn được xác nhận chính thức, bạn đăng nhập nền tảng quốc gia binhdanhocvuso.gov.vn "
    "bằng tài khoản VNeID, rồi học và làm bài kiểm tra ở đó. Kết quả chính thức được ghi "
    "nhận trên nền tảng, theo tài khoản VNeID của bạn.\n"
    "Cần người giúp: hỏi Tổ công nghệ số cộng đồng ở thôn."
)
PROGRESS_CERTIFICATE = "🎓 Bạn đã có Giấy chứng nhận hoàn thành, mã {code}."
# On the certificate picture and the public check of a code.
CERTIFICATE_TITLE = "Giấy chứng nhận hoàn thành"
CERTIFICATE_MOVEMENT = "Phong trào “Bình dân học vụ số” · {commune}"
CERTIFICATE_LEARNER = "Người học: {initials}"
CERTIFICATE_GROUP = "Đã học xong các bài cơ bản của nhóm: {group}"
CERTIFICATE_HAMLET = "Thôn: {hamlet}"
CERTIFICATE_DATE = "Ngày cấp: {date}"
CERTIFICATE_LESSONS = "Các bài đã học:"
CERTIFICATE_CODE = "Mã chứng nhận: {code}"
CERTIFICATE_SCAN = "Quét mã QR để kiểm tra"
CERTIFICATE_FOOTNOTE = (
    "Giấy này không thay cho xác nhận chính thức trên VNeID và nền tảng binhdanhocvuso.gov.vn."
)
CERTIFICATE_UNKNOWN = "Không tìm thấy giấy chứng nhận có mã này. Bạn kiểm tra lại mã nhé."
CERTIFICATE_WITHDRAWN = "Giấy chứng nhận này đã bị thu hồi, không còn giá trị."
CERTIFICATE_VALID = "✅ Giấy chứng nhận hợp lệ, do trợ lý học tập của xã cấp."

ASK_PROMPT = (
    "💬 Bạn gõ câu hỏi của mình, có dấu hay không dấu đều được.\nVí dụ: “vneid mức 2 làm ở đâu”."
)
ASK_FOUND = "📖 Bài học liên quan: “{title}”. Bạn muốn học bài này không?"
ASK_MORE = "Bạn muốn hỏi thêm gì nữa không?"
ASK_NOT_SURE = "Mình chưa chắc trả lời đúng câu này. 🙏"
ASK_TOPICS = (
    "Có phải bạn muốn hỏi về một trong các chủ đề dưới đây? "
    "Nếu không, bạn thử hỏi cách khác, hoặc gặp tình nguyện viên nhé."
)
VOLUNTEER_HELP = (
    "🙋 Gặp tình nguyện viên: bạn hỏi Tổ công nghệ số cộng đồng ở thôn, "
    "hoặc Đoàn Thanh niên xã. Các bạn ấy sẽ đến tận nhà hướng dẫn, không mất tiền."
)
BTN_VOLUNTEER = "🙋 Gặp tình nguyện viên"

DELETE_CONFIRM = (
    "🗑️ Bạn muốn xóa hết dữ liệu của mình?\n\n"
    "Nếu xóa, mình xóa: năm sinh, những chữ bạn đã gõ, lời nhắc học và mọi thứ cho biết "
    "đó là bạn. Kết quả học sẽ mất, không lấy lại được. Giấy chứng nhận (nếu có) sẽ bị "
    "thu hồi.\n\n"
    "📊 Xã chỉ giữ lại số đếm chung, không có tên, ví dụ “thôn có thêm 1 người đã học”. "
    "Không ai biết người đó là bạn.\n"
    "Tài khoản Zalo, Telegram của bạn vẫn giữ nguyên."
)
DELETE_DONE = (
    "Đã xóa hết dữ liệu của bạn. Xã chỉ còn số đếm chung, không có tên. "
    "Cảm ơn bạn đã học cùng mình! 🙏\n"
    "Khi nào muốn học lại, bạn gõ bất kỳ chữ gì nhé."
)
DELETE_CANCELLED = "Mình không xóa gì cả."

REVIEW_OFFER = (
    "📝 Bạn có {count} câu từng trả lời sai, hôm nay đến lúc ôn lại.\n"
    "Mình ôn nhanh trước rồi học bài mới nhé?"
)
REVIEW_INTRO = (
    "📝 Mình cùng ôn lại {count} câu bạn từng trả lời sai. Không tính điểm, bạn cứ từ từ nhé."
)
REVIEW_QUESTION = "🔁 Ôn lại {index}/{total} (bài “{title}”)\n❓ {text}"
REVIEW_DONE = "✅ Ôn xong! Bạn trả lời đúng {score}/{total} câu."
REVIEW_AGAIN_TOMORROW = "🔁 Câu nào chưa đúng, ngày mai mình hỏi lại bạn."
REVIEW_AGAIN_LATER = "📅 Câu đã đúng, vài hôm nữa mình hỏi lại cho nhớ lâu."
REVIEW_LEARNT = "🌟 {count} câu bạn đã nhớ chắc, không cần ôn nữa."
REVIEW_NONE = "👍 Hôm nay bạn không có câu nào cần ôn."
BTN_REVIEW = "📝 Ôn lại câu sai ({count})"
BTN_NEW_LESSON = "📚 Học bài mới"
REVIEW_WORDS = ("on lai", "on lai cau sai", "on tap", "on bai", "on cau sai")

# Button labels and other words learners type for them.
BTN_AGREE = "✅ Đồng ý"
BTN_DECLINE = "Không đồng ý"
BTN_MORE = "📄 Đọc thêm"
BTN_SKIP = "Bỏ qua"
BTN_HAMLET_NONE = "Tôi không ở thôn nào trên đây"
BTN_NEXT_LESSON = "📚 Học tiếp"
BTN_SKILLS = "🗂️ Chọn chủ đề"
BTN_ASK = "💬 Hỏi đáp"
BTN_PROGRESS = "📊 Tiến độ của tôi"
BTN_HELP = "ℹ️ Trợ giúp"
BTN_MENU = "🏠 Về menu"
BTN_NEXT_CARD = "Tiếp ▶"
BTN_START_QUIZ = "📝 Làm bài kiểm tra"
BTN_IDK = "Tôi không biết"
BTN_RETRY = "🔁 Làm lại bài kiểm tra"
BTN_REREAD = "📖 Đọc lại bài"
BTN_NEXT_AFTER_PASS = "📚 Học bài tiếp theo"
BTN_STUDY_THIS = "📖 Học bài này"
BTN_ASK_AGAIN = "💬 Hỏi câu khác"
BTN_DELETE_YES = "🗑️ Xóa hết dữ liệu"
BTN_DELETE_NO = "Không xóa"
BTN_DELETE_MINE = "🗑️ Xóa dữ liệu của tôi"

AGREE_WORDS = ("dong y", "ok", "oke", "co", "yes", "bat dau", "dong y a")
DECLINE_WORDS = ("khong", "ko", "k", "khong dong y", "no")
NEXT_WORDS = ("tiep", "tiep tuc", "ok", "xong", "roi", "next")
MENU_WORDS = ("menu", "/menu", "ve menu", "trang chinh", "quay lai", "/start", "start")
HELP_WORDS = ("tro giup", "/help", "help", "huong dan", "giup", "giup do")
DELETE_WORDS = ("xoa du lieu", "/xoadulieu", "xoadulieu", "xoa het du lieu", "xoa du lieu cua toi")

# --- volunteers (bot/engine/volunteer.py) ---
BTN_VOLUNTEER_TOOLS = "🤝 Việc tình nguyện"
BTN_ADD_RESIDENT = "➕ Thêm người được giúp"
BTN_RESIDENTS = "👥 Người tôi đang giúp"
BTN_REFERRAL = "🔗 Link giới thiệu"
BTN_BACK_TO_MENU = "⬅️ Về menu chính"
BTN_BACK = "⬅️ Quay lại"
BTN_STUDY_WITH = "📚 Học cùng người này"
BTN_SIGN_OFF = "✅ Xác nhận kỹ năng"
BTN_CONSENT_IN_PERSON = "✅ Đã hỏi, người ấy đồng ý"
BTN_CONSENT_NOT_YET = "Chưa đồng ý"
BTN_LEAVE_ASSISTING = "↩️ Xong, về tài khoản của tôi"
VOLUNTEER_WELCOME = (
    "🎉 Chào mừng bạn vào đội tình nguyện “{org}”! Từ giờ, menu có thêm mục "
    "“🤝 Việc tình nguyện”: thêm người bạn giúp, học cùng họ, xác nhận kỹ năng."
)
VOLUNTEER_ALREADY = "Bạn đã là tình nguyện viên của “{org}” rồi."
INVITE_UNKNOWN = "Mã mời này không đúng hoặc đã hết hạn. Bạn hỏi lại người phụ trách đội nhé."
VOLUNTEER_MENU = "🤝 Việc tình nguyện — {org}\nBạn muốn làm gì?"
ASK_RESIDENT_NAME = (
    "Bạn gõ tên gọi của người bạn giúp, ví dụ “Bà Tư xóm 3”.\n"
    "Không ghi số căn cước hay số điện thoại nhé."
)
RESIDENT_NAME_INVALID = (
    "Tên gọi cần ngắn (dưới 40 chữ) và không có dãy số. Bạn gõ lại, ví dụ “Bà Tư xóm 3”."
)
ASSIST_GROUP = "{name} thuộc nhóm nào?"
ASSIST_HAMLET = "{name} ở thôn nào?"
ASSIST_BIRTH_YEAR = "{name} sinh năm nào? Gõ 4 số, ví dụ 1950, hoặc bấm “Bỏ qua”."
ASSIST_CONSENT = (
    "Trước khi lưu, bạn đọc cho {name} nghe:\n"
    "“Trợ lý chỉ lưu nhóm, thôn, năm sinh và kết quả học, để xã đếm số người đã học. "
    "Không lưu số căn cước hay mật khẩu. Muốn xóa lúc nào cũng được.”\n\n"
    "{name} có đồng ý không?"
)
ASSIST_NOT_CONSENTED = "Chưa lưu gì cả. Khi nào người ấy đồng ý, bạn thêm lại nhé."
ASSIST_CREATED = "✅ Đã tạo hồ sơ cho {name}. Bây giờ bạn đang học cùng {name}."
ASSISTING = "👥 Đang học cùng {name}"
ASSISTING_HINT = "Mọi tin nhắn từ giờ là của {name}. Xong thì bấm “↩️ Xong, về tài khoản của tôi”."
ASSIST_DONE = "↩️ Đã về tài khoản của bạn. Kết quả của {name} đã được lưu."
ASSIST_GONE = "Hồ sơ này không còn nữa (có thể người ấy đã xin xóa dữ liệu)."
RESIDENTS_NONE = "Bạn chưa giúp ai. Bấm “➕ Thêm người được giúp” để bắt đầu."
RESIDENTS_HEAD = "👥 Người bạn đang giúp:"
RESIDENT_LINE = "{number}. {name}: đã học xong {done} bài{checks}{revisit}"
RESIDENT_CHECKS = ", {count} kỹ năng đã xác nhận"
RESIDENT_REVISIT = " — ⏰ cần quay lại"
RESIDENT_DETAIL = "{name}: đã học xong {done} bài.{revisit}\nBạn muốn làm gì?"
RESIDENT_DETAIL_REVISIT = " Đã lâu chưa học, nên ghé lại."
CHECKS_HEAD = (
    "✅ Kỹ năng của {name}. Chỉ bấm khi bạn đã tận mắt thấy người ấy tự làm được:\n{lines}"
)
CHECK_DONE_LINE = "✅ {label}"
CHECK_TODO_LINE = "⬜ {label}"
CHECK_SIGNED = "Đã ghi nhận: {label}."
CHECK_PLATFORM_NOTE = (
    "Lưu ý: xác nhận chính thức là trên VNeID hoặc nền tảng Bình dân học vụ số. "
    "Ở đây bạn chỉ ghi lại là người ấy đã được xác nhận, kèm ngày hôm nay."
)
REFERRAL_NOT_VOLUNTEER = "Mục này dành cho tình nguyện viên."

# --- weekly reminders (bot/engine/reminders.py, bot/channels/reminders.py) ---
BTN_REMIND_ON = "🔔 Nhắc tôi học mỗi tuần"
BTN_REMIND_OFF = "🔕 Dừng nhắc học"
REMINDER_ON = (
    "🔔 Đã bật nhắc học. Mỗi tuần mình nhắn bạn một lần, "
    "không nhắn từ 9 giờ tối đến 7 giờ sáng.\n"
    "Lần nhắc đầu tiên: {when}.\n"
    "Muốn dừng, bạn gõ “dừng nhắc” nhé."
)
REMINDER_OFF = (
    "🔕 Đã dừng nhắc học. Mình sẽ không nhắn nhắc bạn nữa.\n"
    "Muốn bật lại, bạn chọn “Nhắc tôi học mỗi tuần” trong menu."
)
REMINDER_ALREADY_OFF = "Bạn chưa bật nhắc học nên không có gì để dừng."
REMINDER_MESSAGE = (
    "🔔 Chào bạn! Đến giờ học kỹ năng số rồi, chỉ mất vài phút thôi.\n"
    "👉 Gõ “học tiếp” để học bài tiếp theo.\n"
    "Không muốn nhận tin nhắc nữa, bạn gõ “dừng nhắc”."
)
CONTINUE_HERE = "📖 Mình học tiếp từ chỗ bạn đang dừng nhé."
# {weekday}, {day}/{month} lúc {time}: "thứ Hai, 30/11 lúc 19:05".
REMINDER_WHEN = "{weekday}, ngày {day}/{month} lúc {time}"
WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
REMIND_WORDS = ("nhac toi", "nhac hoc", "bat nhac", "bat nhac hoc", "nhac toi hoc")
STOP_REMINDER_WORDS = (
    "dung nhac",
    "dung nhac hoc",
    "dung nhac nho",
    "tat nhac",
    "tat nhac hoc",
    "huy nhac",
    "/dungnhac",
    "dungnhac",
)
CONTINUE_WORDS = ("hoc tiep", "tiep tuc hoc")

# Referrals: a volunteer's link, QR code and code; a resident arriving through them.
REFERRAL_INTRO = (
    "🤝 Mời người dân học cùng bạn. Ai đến qua đường link hoặc mã của bạn sẽ được ghi là "
    "do bạn giới thiệu."
)
REFERRAL_TELEGRAM_LINK = (
    "📱 Trên Telegram: người dân quét mã QR bên dưới, hoặc mở đường link này:\n{link}"
)
REFERRAL_TELEGRAM_COMMAND = "📱 Trên Telegram: người dân nhắn cho trợ lý dòng này:\n{command}"
REFERRAL_ZALO = (
    "💬 Trên Zalo: người dân nhắn cho trợ lý dòng này:\nref {code}\n(Mã giới thiệu của bạn: {code})"
)
REFERRAL_BEFORE_CONSENT = (
    "🤝 Bạn đến qua lời giới thiệu của tình nguyện viên (mã {code}). "
    "Mình sẽ ghi nhận khi bạn đồng ý: bấm “Đồng ý”, hoặc gõ “đồng ý {code}” nhé."
)
REFERRAL_THANKS = "🤝 Cảm ơn bạn! Mình đã ghi nhận bạn được tình nguyện viên giới thiệu."
REFERRAL_ALREADY = "🤝 Bạn đã được ghi nhận là do tình nguyện viên giới thiệu từ trước rồi nhé."
REFERRAL_SELF = "🙂 Đây là mã giới thiệu của chính bạn. Bạn gửi mã này cho người dân nhé."
REFERRAL_UNKNOWN = (
    "Mình chưa tìm thấy mã giới thiệu “{code}”. Bạn xem lại mã với tình nguyện viên giúp mình "
    "nhé. Không có mã thì bạn vẫn học bình thường."
)
ASSIST_DELETED = "🗑️ Đã xóa hồ sơ của {name}, đúng như người ấy muốn."
