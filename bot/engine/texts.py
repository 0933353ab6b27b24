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
    "• Bạn gõ “xóa dữ liệu” bất cứ lúc nào để xóa hết.\n"
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
    "• Gõ “xóa dữ liệu” để xóa hết dữ liệu của bạn.\n"
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

DELETE_CONFIRM = "🗑️ Bạn muốn xóa hết dữ liệu của mình? Kết quả học sẽ mất, không lấy lại được."
DELETE_DONE = (
    "Đã xóa hết dữ liệu của bạn. Cảm ơn bạn đã học cùng mình! 🙏\n"
    "Khi nào muốn học lại, bạn gõ bất kỳ chữ gì nhé."
)
DELETE_CANCELLED = "Mình không xóa gì cả."

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

AGREE_WORDS = ("dong y", "ok", "oke", "co", "yes", "bat dau", "dong y a")
DECLINE_WORDS = ("khong", "ko", "k", "khong dong y", "no")
NEXT_WORDS = ("tiep", "tiep tuc", "ok", "xong", "roi", "next")
MENU_WORDS = ("menu", "/menu", "ve menu", "trang chinh", "quay lai", "/start", "start")
HELP_WORDS = ("tro giup", "/help", "help", "huong dan", "giup", "giup do")
DELETE_WORDS = ("xoa du lieu", "/xoadulieu", "xoadulieu", "xoa het du lieu", "xoa du lieu cua toi")
