//! Languages and strings: every string is a typed [`Key`] with a text in each [`Locale`]; a key missing a
//! translation does not compile. Sites override any string through the `strings` option.

/// A language the widget speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Locale {
    /// Simplified Chinese (default).
    ZhCn,
    /// Traditional Chinese.
    ZhTw,
    /// English.
    En,
}

impl Locale {
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::ZhTw => "zh-TW",
            Locale::En => "en",
        }
    }

    /// The best locale for a BCP 47 tag such as `zh-Hant-HK` or `en-GB`; `None` for other languages.
    pub fn parse(tag: &str) -> Option<Locale> {
        let t = tag.trim().to_ascii_lowercase().replace('_', "-");
        if t == "en" || t.starts_with("en-") {
            Some(Locale::En)
        } else if t.starts_with("zh-tw") || t.starts_with("zh-hk") || t.starts_with("zh-mo") || t.starts_with("zh-hant")
        {
            Some(Locale::ZhTw)
        } else if t == "zh" || t.starts_with("zh-") {
            Some(Locale::ZhCn)
        } else {
            None
        }
    }
}

/// End offsets of `lens` laid end to end (`ends[i]` is where string `i` ends in their concatenation).
const fn ends<const N: usize>(lens: [usize; N]) -> [u16; N] {
    let mut out = [0u16; N];
    let (mut i, mut end) = (0, 0);
    while i < N {
        end += lens[i];
        // Every table here is a few KB: far below u16::MAX (a larger one fails the build at this assert).
        assert!(end <= u16::MAX as usize);
        out[i] = end as u16;
        i += 1;
    }
    out
}

/// String `i` of `all`, the concatenation whose end offsets are `ends`.
fn nth(all: &'static str, ends: &[u16], i: usize) -> &'static str {
    let start = if i == 0 { 0 } else { ends.get(i - 1).copied().unwrap_or(0) };
    let end = ends.get(i).copied().unwrap_or(0);
    all.get(start as usize..end as usize).unwrap_or("")
}

// The texts and names are stored as one string each with a table of u16 end offsets: a table of `&str`s would
// cost 8 bytes of (pointer, length) per string in the wasm's data, which gzip compresses poorly.
macro_rules! strings {
    ($($key:ident $name:literal [$zh:literal, $tw:literal, $en:literal $(,)?])*) => {
        /// Every string the widget shows.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Key { $($key),* }

        impl Key {
            /// Every key, for overrides by name.
            pub const ALL: &'static [Key] = &[$(Key::$key),*];

            /// The key's stable name, used in the `strings` option.
            pub fn name(self) -> &'static str {
                const ALL: &str = concat!($($name),*);
                const ENDS: &[u16] = &ends([$($name.len()),*]);
                nth(ALL, ENDS, self as usize)
            }

            /// The built-in text in `locale`.
            pub fn text(self, locale: Locale) -> &'static str {
                const ALL: &str = concat!($($zh, $tw, $en),*);
                const ENDS: &[u16] = &ends([$($zh.len(), $tw.len(), $en.len()),*]);
                let i = match locale { Locale::ZhCn => 0, Locale::ZhTw => 1, Locale::En => 2 };
                nth(ALL, ENDS, self as usize * 3 + i)
            }
        }
    };
}

strings! {
    Title "title" ["实名认证", "實名認證", "Identity verification"]
    Cancel "cancel" ["取消", "取消", "Cancel"]
    Back "back" ["上一步", "上一步", "Back"]
    Continue "continue" ["继续", "繼續", "Continue"]
    Required "required" ["（必填）", "（必填）", "(required)"]
    ConsentHeading "consent.heading" ["个人信息处理告知与同意", "個人資料處理告知與同意", "How we use your personal information"]
    ConsentWho "consent.who" ["处理者：{controller}", "處理者：{controller}", "Who processes it: {controller}"]
    ConsentPurpose "consent.purpose" [
        "目的：核验你的真实身份（实名认证），这是法律法规对本服务的要求。",
        "目的：核驗你的真實身分（實名認證），這是法律法規對本服務的要求。",
        "Purpose: to verify your real identity, which the law requires for this service.",
    ]
    ConsentData "consent.data" [
        "信息种类：姓名、证件类型和号码、手机号或邮箱；选择人脸核验时还有人脸照片和证件照片。证件号码和人脸属于敏感个人信息。",
        "資料種類：姓名、證件類型和號碼、手機號碼或電子郵件；選擇人臉核驗時還有人臉照片和證件照片。證件號碼和人臉屬於敏感個人資料。",
        "What: your name, document kind and number, phone or email; for face verification also a selfie and a photo of your document. Document numbers and faces are sensitive personal information.",
    ]
    ConsentIdMatch "consent.id_match" [
        "核验：你的姓名和身份证号码将经{party}与权威身份数据源比对。",
        "核驗：你的姓名和身分證號碼將經{party}與權威身分資料來源比對。",
        "Check: your name and ID number are compared with an authoritative identity source via {party}.",
    ]
    ConsentCheck "consent.check" [
        "核验（{check}）：你的身份信息将经{party}与权威数据源比对。",
        "核驗（{check}）：你的身分資料將經{party}與權威資料來源比對。",
        "Check ({check}): your details are compared with an authoritative source via {party}.",
    ]
    PartyTencent "party.tencent" ["腾讯云", "騰訊雲", "Tencent Cloud"]
    PartyAliyun "party.aliyun" ["阿里云", "阿里雲", "Alibaba Cloud"]
    PartyDemo "party.demo" ["演示服务（无真实记录）", "示範服務（無真實紀錄）", "a demo service (no real records)"]
    PartyOther "party.other" ["本网站委托的核验服务", "本網站委託的核驗服務", "a verification service this site uses"]
    ConsentRetention "consent.retention" [
        "保存期限：{retention}",
        "保存期限：{retention}",
        "How long: {retention}",
    ]
    ConsentRetentionDefault "consent.retention_default" [
        "核验完成后 30 天内删除原始信息，仅保留核验结果和脱敏记录。",
        "核驗完成後 30 天內刪除原始資料，僅保留核驗結果和去識別化紀錄。",
        "the raw data is deleted within 30 days after verification; only the result and masked records are kept.",
    ]
    ConsentWithdraw "consent.withdraw" [
        "撤回：提交前点“取消”即可撤回同意；提交后可通过隐私政策中的联系方式撤回并要求删除。",
        "撤回：提交前點「取消」即可撤回同意；提交後可透過隱私權政策中的聯絡方式撤回並要求刪除。",
        "Withdrawing: press Cancel before submitting; afterwards, use the contact in the privacy policy to withdraw and have your data deleted.",
    ]
    ConsentPolicy "consent.policy" ["阅读隐私政策", "閱讀隱私權政策", "Read the privacy policy"]
    ConsentCheckbox "consent.checkbox" [
        "我已阅读上述说明，单独同意处理我的敏感个人信息",
        "我已閱讀上述說明，單獨同意處理我的敏感個人資料",
        "I have read the above and separately consent to the processing of my sensitive personal information",
    ]
    ConsentAgree "consent.agree" ["同意并继续", "同意並繼續", "Agree and continue"]
    ConsentSite "consent.site" ["本网站", "本網站", "this website"]
    GuardianHeading "guardian.heading" ["需要监护人同意", "需要監護人同意", "A parent or guardian must agree"]
    GuardianBody "guardian.body" [
        "证件号码显示你未满 14 周岁。请让你的父母或其他监护人阅读个人信息处理说明，并由其同意后继续。",
        "證件號碼顯示你未滿 14 歲。請讓你的父母或其他監護人閱讀個人資料處理說明，並由其同意後繼續。",
        "The document number shows you are under 14. Ask a parent or guardian to read how we use the information and agree before you go on.",
    ]
    GuardianCheckbox "guardian.checkbox" [
        "我是该未成年人的监护人，同意处理其个人信息",
        "我是該未成年人的監護人，同意處理其個人資料",
        "I am this child's parent or guardian and consent to the processing of their personal information",
    ]
    GuardianAgree "guardian.agree" ["监护人同意并继续", "監護人同意並繼續", "Guardian agrees, continue"]
    MethodHeading "method.heading" ["选择核验方式", "選擇核驗方式", "Choose how to verify"]
    MethodSms "method.sms" ["短信验证码", "簡訊驗證碼", "Text message code"]
    MethodSmsHint "method.sms_hint" ["向你的中国大陆手机号发送 6 位验证码", "向你的中國大陸手機號碼傳送 6 位驗證碼", "We text a 6-digit code to your mainland China mobile number"]
    MethodEmail "method.email" ["邮箱验证码", "電子郵件驗證碼", "Email code"]
    MethodEmailHint "method.email_hint" ["向你的邮箱发送 6 位验证码", "向你的電子郵件傳送 6 位驗證碼", "We email you a 6-digit code"]
    MethodDocuments "method.documents" ["人脸 + 证件照片", "人臉 + 證件照片", "Face and document photo"]
    MethodDocumentsHint "method.documents_hint" [
        "拍摄自拍和证件照片，人工审核，5 个工作日内完成",
        "拍攝自拍和證件照片，人工審核，5 個工作天內完成",
        "Take a selfie and a photo of your document; a person reviews it within 5 working days",
    ]
    IdentityHeading "identity.heading" ["填写身份信息", "填寫身分資料", "Your identity"]
    IdentityKind "identity.kind" ["证件类型", "證件類型", "Document"]
    KindResident "kind.resident_id" ["居民身份证", "居民身分證", "Resident Identity Card (居民身份证)"]
    KindResidencePermit "kind.residence_permit" ["港澳台居民居住证", "港澳台居民居住證", "Residence Permit for HK, Macao and Taiwan residents"]
    KindForeignPermanent "kind.foreign_permanent_resident" ["外国人永久居留身份证", "外國人永久居留身分證", "Foreign Permanent Resident ID Card"]
    KindPassport "kind.passport" ["护照", "護照", "Passport"]
    KindHkMacaoPass "kind.hk_macao_permit" ["港澳居民来往内地通行证", "港澳居民來往內地通行證", "Mainland Travel Permit for HK and Macao Residents"]
    KindTaiwanPass "kind.taiwan_permit" ["台湾居民来往大陆通行证", "台灣居民來往大陸通行證", "Mainland Travel Permit for Taiwan Residents"]
    KindDrivingLicence "kind.driving_licence" ["机动车驾驶证", "機動車駕駛證", "Mainland driving licence (驾驶证)"]
    IdentityName "identity.name" ["姓名", "姓名", "Full name"]
    IdentityNameHint "identity.name_hint" ["与证件上一致", "與證件上一致", "As printed on the document"]
    IdentityNumber "identity.number" ["证件号码", "證件號碼", "Document number"]
    IdentityPhone "identity.phone" ["手机号码", "手機號碼", "Mobile number"]
    IdentityEmail "identity.email" ["电子邮箱", "電子郵件", "Email"]
    IdentitySubmit "identity.submit" ["下一步", "下一步", "Next"]
    IdentityFixFirst "identity.fix_first" ["请先更正上面标出的内容", "請先更正上面標出的內容", "Fix the fields marked above first"]
    ErrRequired "error.required" ["请填写此项", "請填寫此項", "Fill in this field"]
    ErrLength "error.length" [
        "应为 {expected} 位，现在是 {actual} 位",
        "應為 {expected} 位，現在是 {actual} 位",
        "Should be {expected} characters; it has {actual}",
    ]
    ErrCharacters "error.characters" [
        "第 {position} 位“{found}”不对：这里只能是{allowed}",
        "第 {position} 位「{found}」不對：這裡只能是{allowed}",
        "Character {position} (\"{found}\") is wrong: only {allowed} can go there",
    ]
    ErrChecksum "error.checksum" [
        "第 18 位应为 {expected}，请核对号码是否抄错",
        "第 18 位應為 {expected}，請核對號碼是否抄錯",
        "The 18th character should be {expected}; check the number for a typo",
    ]
    ErrBirthDate "error.birth_date" [
        "出生日期 {date} 不存在，请核对第 {digits} 位",
        "出生日期 {date} 不存在，請核對第 {digits} 位",
        "Birth date {date} does not exist; check characters {digits}",
    ]
    ErrBirthFuture "error.birth_future" [
        "出生日期 {date} 晚于今天，请核对第 {digits} 位",
        "出生日期 {date} 晚於今天，請核對第 {digits} 位",
        "Birth date {date} is in the future; check characters {digits}",
    ]
    ErrRegion "error.region" [
        "地区代码 {code} 不在我们的列表中——请核对前六位",
        "地區代碼 {code} 不在我們的列表中——請核對前六位",
        "This region code ({code}) is not in our list — check the first six digits",
    ]
    ErrProvince "error.province" [
        "前两位 {code} 不是有效的省级代码，请核对号码",
        "前兩位 {code} 不是有效的省級代碼，請核對號碼",
        "{code} is not a province code; check the start of the number",
    ]
    ErrKindMismatch "error.kind_mismatch" [
        "这个号码不是所选证件类型的号码，请检查证件类型",
        "這個號碼不是所選證件類型的號碼，請檢查證件類型",
        "This number is not a number of the chosen document kind; check the document kind",
    ]
    ErrInvalidNumber "error.number" ["证件号码格式不对，请对照证件核对", "證件號碼格式不對，請對照證件核對", "This number does not look right; compare it with your document"]
    AllowedDigits "allowed.digits" ["数字", "數字", "digits"]
    AllowedDigitsX "allowed.digits_x" ["数字或 X", "數字或 X", "digits or X"]
    AllowedLettersDigits "allowed.letters_digits" ["字母或数字", "字母或數字", "letters or digits"]
    AllowedCapitals "allowed.capitals" ["大写字母", "大寫字母", "capital letters"]
    AllowedHm "allowed.h_or_m" ["H（香港）或 M（澳门）", "H（香港）或 M（澳門）", "H (Hong Kong) or M (Macao)"]
    ErrBirthEarly "error.birth_early" [
        "出生日期 {date} 早于 1800-01-01，请核对第 {digits} 位",
        "出生日期 {date} 早於 1800-01-01，請核對第 {digits} 位",
        "Birth date {date} is before 1800-01-01; check characters {digits}",
    ]
    WarnNationality "warning.nationality" [
        "国籍代码 {code} 不在我们的列表中，请核对；如无误可继续",
        "國籍代碼 {code} 不在我們的列表中，請核對；如無誤可繼續",
        "Nationality code {code} is not in our list; check it, and go on if it is right",
    ]
    WarnLegacy "warning.legacy" [
        "这是 15 位旧号码，将按 18 位 {upgraded} 提交",
        "這是 15 位舊號碼，將按 18 位 {upgraded} 提交",
        "This is an old 15-digit number; it will be sent as the 18-character {upgraded}",
    ]
    WarnRegion "warning.region" [
        "地区代码 {code} 不在我们的列表中——请核对前六位；如无误可继续",
        "地區代碼 {code} 不在我們的列表中——請核對前六位；如無誤可繼續",
        "This region code ({code}) is not in our list — check the first six digits, and go on if they are right",
    ]
    ErrNameMixed "error.name_mixed" [
        "姓名不能混用汉字和拉丁字母，请按证件填写",
        "姓名不能混用漢字和拉丁字母，請按證件填寫",
        "Do not mix Chinese characters and Latin letters; write the name as on the document",
    ]
    ErrNameLength "error.name_length" ["姓名长度不对，请按证件完整填写", "姓名長度不對，請按證件完整填寫", "The name is too short or too long; write it in full as on the document"]
    ErrPhone "error.phone" [
        "请输入 11 位中国大陆手机号，以 1 开头",
        "請輸入 11 位中國大陸手機號碼，以 1 開頭",
        "Enter an 11-digit mainland China mobile number starting with 1",
    ]
    ErrEmail "error.email" ["邮箱地址不完整，例如 name@example.com", "電子郵件地址不完整，例如 name@example.com", "This email address is incomplete, e.g. name@example.com"]
    ErrName "error.name" [
        "请按证件填写姓名，只能包含文字、空格、“·”和“-”",
        "請按證件填寫姓名，只能包含文字、空格、「·」和「-」",
        "Enter the name as on the document: letters, spaces, \"·\" and \"-\" only",
    ]
    CheckMismatch "check.mismatch" [
        "姓名和证件号码与记录不符，请对照证件核对后修改。",
        "姓名和證件號碼與紀錄不符，請對照證件核對後修改。",
        "The name and ID number do not match the records. Check them against your ID card and correct them.",
    ]
    CheckNoRecord "check.no_record" ["没有查到这个证件号码的记录，请核对号码。", "查無此證件號碼的紀錄，請核對號碼。", "The records have no such ID number. Check the number."]
    CheckLimit "check.limit" [
        "这个证件号码今天核验次数过多，请 {hours} 小时后再试。",
        "此證件號碼今天核驗次數過多，請 {hours} 小時後再試。",
        "This ID number was checked too often today. Try again in {hours} h.",
    ]
    CheckUnavailable "check.unavailable" [
        "身份核验服务暂时无法使用，请稍后再点“下一步”。",
        "身分核驗服務暫時無法使用，請稍後再按「下一步」。",
        "The identity check is not available right now. Press Next again in a minute.",
    ]
    CodeHeading "code.heading" ["输入验证码", "輸入驗證碼", "Enter the code"]
    CodeSentSms "code.sent_sms" ["验证码已通过短信发送至 {to}", "驗證碼已透過簡訊傳送至 {to}", "We texted a code to {to}"]
    CodeSentEmail "code.sent_email" ["验证码已发送至 {to}", "驗證碼已傳送至 {to}", "We emailed a code to {to}"]
    CodeLabel "code.label" ["6 位验证码", "6 位驗證碼", "6-digit code"]
    CodeSubmit "code.submit" ["验证", "驗證", "Verify"]
    CodeResend "code.resend" ["重新发送验证码", "重新傳送驗證碼", "Send a new code"]
    CodeResendIn "code.resend_in" ["{seconds} 秒后可重新发送", "{seconds} 秒後可重新傳送", "You can ask for a new code in {seconds} s"]
    CodeTries "code.tries" ["还可尝试 {n} 次", "還可嘗試 {n} 次", "{n} tries left"]
    CodeTriesOne "code.tries_one" ["还可尝试 1 次", "還可嘗試 1 次", "1 try left"]
    CodeWrong "code.wrong" ["验证码不正确，请重新输入", "驗證碼不正確，請重新輸入", "That code is not right; try again"]
    CodeExpired "code.expired" ["验证码已过期，请重新发送", "驗證碼已過期，請重新傳送", "The code has expired; ask for a new one"]
    CodeUnsent "code.unsent" ["验证码还没有发出，请点击发送", "驗證碼還沒有發出，請點擊傳送", "No code has gone out yet; ask for one"]
    CodeLocked "code.locked" [
        "错误次数过多，本次验证已锁定。请重新开始。",
        "錯誤次數過多，本次驗證已鎖定。請重新開始。",
        "Too many wrong codes: this attempt is locked. Start again.",
    ]
    CodeDigitsOnly "code.digits_only" ["验证码是 6 位数字", "驗證碼是 6 位數字", "The code is 6 digits"]
    Restart "restart" ["重新开始", "重新開始", "Start again"]
    DocumentsHeading "documents.heading" ["拍摄人脸和证件", "拍攝人臉和證件", "Photos of your face and document"]
    DocumentsFaceConsent "documents.face_consent" [
        "我单独同意为核验身份采集和处理我的人脸图像",
        "我單獨同意為核驗身分蒐集和處理我的人臉影像",
        "I separately consent to my face image being collected and processed to verify my identity",
    ]
    DocumentsSelfie "documents.selfie" ["自拍", "自拍", "Selfie"]
    DocumentsDocument "documents.document" ["证件照片（有照片的一面）", "證件照片（有照片的一面）", "Document (photo side)"]
    DocumentsCamera "documents.camera" ["打开摄像头", "開啟相機", "Use the camera"]
    DocumentsCapture "documents.capture" ["拍照", "拍照", "Take photo"]
    DocumentsRetake "documents.retake" ["重拍", "重拍", "Retake"]
    DocumentsUpload "documents.upload" ["上传照片", "上傳照片", "Upload a photo"]
    DocumentsNoCamera "documents.no_camera" [
        "无法使用摄像头（没有摄像头或未获授权），请上传照片。",
        "無法使用相機（沒有相機或未獲授權），請上傳照片。",
        "The camera is not available (none, or permission refused); upload a photo instead.",
    ]
    DocumentsGuideSelfie "documents.guide_selfie" ["请正对镜头，让面部位于椭圆框内", "請正對鏡頭，讓臉部位於橢圓框內", "Look at the camera with your face inside the oval"]
    DocumentsGuideDocument "documents.guide_document" ["请将证件放平，四角位于框内", "請將證件放平，四角位於框內", "Lay the document flat with all four corners inside the frame"]
    DocumentsTaken "documents.taken" ["已拍摄", "已拍攝", "Taken"]
    DocumentsSubmit "documents.submit" ["提交审核", "提交審核", "Submit for review"]
    Submitting "submitting" ["正在加密提交…", "正在加密提交…", "Encrypting and sending…"]
    Connecting "connecting" ["正在连接…", "正在連線…", "Connecting…"]
    VerifiedHeading "result.verified" ["认证成功", "認證成功", "You are verified"]
    VerifiedBody "result.verified_body" ["你的身份已核验，可以继续了。", "你的身分已核驗，可以繼續了。", "Your identity is confirmed. You can continue."]
    ReviewHeading "result.review" ["已提交人工审核", "已提交人工審核", "Sent for review"]
    ReviewBody "result.review_body" [
        "我们会在 {date} 前（5 个工作日内）完成审核并通知你。",
        "我們會在 {date} 前（5 個工作天內）完成審核並通知你。",
        "A person will review it by {date} (within 5 working days) and we will let you know.",
    ]
    ReviewBodyUndated "result.review_body_undated" [
        "我们会在 5 个工作日内完成审核并通知你。",
        "我們會在 5 個工作天內完成審核並通知你。",
        "A person will review it within 5 working days and we will let you know.",
    ]
    FailedHeading "result.failed" ["认证未通过", "認證未通過", "We could not verify you"]
    FailedBody "result.failed_body" [
        "提交的信息未能通过核验（{reason}）。你可以核对后重试；如认为结果有误，可以提出申诉。",
        "提交的資料未能通過核驗（{reason}）。你可以核對後重試；如認為結果有誤，可以提出申訴。",
        "The details did not pass verification ({reason}). Check them and try again, or file a complaint if you think this is wrong.",
    ]
    FailedLocked "result.failed_locked" [
        "姓名和证件号码多次与记录不符，本次认证已结束。请对照证件核对后重新开始；如认为有误，可以提出申诉。",
        "姓名和證件號碼多次與紀錄不符，本次認證已結束。請對照證件核對後重新開始；如認為有誤，可以提出申訴。",
        "The name and ID number did not match the records too often, so this attempt has ended. Check them against your ID card and start again, or file a complaint if you think this is wrong.",
    ]
    Retry "retry" ["重试", "重試", "Try again"]
    Complaint "complaint" ["提出申诉", "提出申訴", "File a complaint"]
    CancelledHeading "result.cancelled" ["已取消", "已取消", "Cancelled"]
    CancelledBody "result.cancelled_body" [
        "你已撤回同意，本次认证已取消。",
        "你已撤回同意，本次認證已取消。",
        "You withdrew your consent and the verification was cancelled.",
    ]
    ErrorHeading "error.heading" ["出了点问题", "出了點問題", "Something went wrong"]
    ErrorMisconfiguredHeading "error.misconfigured_heading" ["此页面暂时无法实名认证", "此頁面暫時無法實名認證", "This page cannot verify you right now"]
    ErrorBody "error.body" [
        "服务暂时出现问题，请稍后重试。",
        "服務暫時出現問題，請稍後重試。",
        "The service ran into a problem. Try again in a few minutes.",
    ]
    ErrorCode "error.code" ["错误代码：{code}", "錯誤代碼：{code}", "Error code: {code}"]
    ErrorMisconfigured "error.misconfigured" [
        "本页面的实名认证设置有误，暂时无法继续。请告知网站；你还没有提交任何信息。",
        "本頁面的實名認證設定有誤，暫時無法繼續。請告知網站；你還沒有提交任何資料。",
        "This page is not set up correctly for identity verification, so it cannot go on. Please tell the website; nothing you entered was sent.",
    ]
    ErrorEnded "error.ended" [
        "本次认证已结束或已超时，请重新开始。",
        "本次認證已結束或已逾時，請重新開始。",
        "This verification has ended or timed out. Start again.",
    ]
    ErrorRateLimited "error.rate_limited" [
        "验证码发送过于频繁，请稍后（最长 1 小时）再试。",
        "驗證碼傳送過於頻繁，請稍後（最長 1 小時）再試。",
        "Too many codes were sent. Wait a while (up to an hour) and try again.",
    ]
    ErrorDelivery "error.delivery" [
        "验证码暂时发送失败，请稍后重试。",
        "驗證碼暫時傳送失敗，請稍後重試。",
        "We could not send the code just now. Try again in a moment.",
    ]
    ErrorRefused "error.refused" [
        "服务器没有接受提交的内容。请重试；如仍不行，请刷新页面。",
        "伺服器沒有接受提交的內容。請重試；如仍不行，請重新整理頁面。",
        "The server did not accept what was sent. Try again; if that fails too, reload the page.",
    ]
    ErrorNetwork "error.network" [
        "网络连接失败，请检查网络后重试。",
        "網路連線失敗，請檢查網路後重試。",
        "We could not reach the server. Check your connection and try again.",
    ]
}

/// The strings of one locale, with the site's overrides applied.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Overrides {
    /// `(locale or all, key, text)`; later entries win.
    pub list: Vec<(Option<Locale>, Key, String)>,
}

impl Overrides {
    /// Adds an override by key name; unknown names are ignored (and reported by the caller).
    pub fn insert(&mut self, locale: Option<Locale>, name: &str, text: String) -> bool {
        match Key::ALL.iter().find(|k| k.name() == name) {
            Some(k) => {
                self.list.push((locale, *k, text));
                true
            }
            None => false,
        }
    }
}

/// A translator for one locale.
#[derive(Clone, Debug, PartialEq)]
pub struct Texts {
    /// The locale.
    pub locale: Locale,
    overrides: std::rc::Rc<Overrides>,
}

impl Texts {
    /// Texts for `locale` with `overrides`.
    pub fn new(locale: Locale, overrides: std::rc::Rc<Overrides>) -> Texts {
        Texts { locale, overrides }
    }

    /// The text for `key`: the locale's override, else the override for all locales, else built-in.
    pub fn get(&self, key: Key) -> String {
        let find = |l: Option<Locale>| {
            self.overrides.list.iter().rev().find(|(ol, ok, _)| *ol == l && *ok == key).map(|(_, _, t)| t.clone())
        };
        find(Some(self.locale)).or_else(|| find(None)).unwrap_or_else(|| key.text(self.locale).to_string())
    }

    /// The text for `key` with `{name}` placeholders filled in (unknown ones are left as they are). One pass over
    /// the text, without `format!`: Rust's formatting machinery costs size in the wasm.
    pub fn fmt(&self, key: Key, args: &[(&str, &str)]) -> String {
        let text = self.get(key);
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let arg = after.find('}').and_then(|close| {
                let name = &after[..close];
                args.iter().find(|(n, _)| *n == name).map(|(_, value)| (close, *value))
            });
            match arg {
                Some((close, value)) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// `n` in decimal, without Rust's formatting machinery (which costs size in the wasm).
pub fn decimal(mut n: u32) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(char::from(b'0' + (n % 10) as u8));
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}
