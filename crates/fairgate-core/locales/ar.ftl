# إشعارات Fairgate وإيصالاته، باللغة العربية (تُعرض من اليمين إلى اليسار).

notice-heading-what = ما المطلوب منك
notice-heading-when = الموعد النهائي
notice-heading-where = المكان
notice-heading-appointment = موعدك
notice-heading-bring = ما يجب إحضاره
notice-heading-rights = حقوقك
notice-reference = المرجع: { $key }
notice-by = في موعد أقصاه { $date } (شاملًا).

notice-register-title = يجب عليك التسجيل
notice-register-what = سجّل شخصيًا في أحد منافذ الدخول أو في أحد المكاتب المذكورة أدناه.
notice-reregister-title = يجب تجديد تسجيلك
notice-reregister-what = احضر إلى أحد المكاتب المذكورة أدناه لتجديد تسجيلك.
notice-report-change-title = يرجى الإبلاغ عن التغيير
notice-report-change-what = أبلغ أحد المكاتب المذكورة أدناه بتغيير عنوانك أو صاحب عملك أو مدرستك، شخصيًا أو عبر البوابة.
notice-record-departure-title = يرجى تسجيل مغادرتك
notice-record-departure-what = عند مغادرتك البلاد، اطلب من الموظف في المنفذ تسجيل مغادرتك.
notice-interview-title = حان موعد مقابلتك
notice-interview-what = احضر إلى المكتب المذكور أدناه لإجراء مقابلتك.

notice-appointment = { $day } الساعة { $time }، في { $office } ({ $minutes } دقيقة). لتغيير الموعد استخدم البوابة (المواعيد) أو اسأل عند أي شباك في أي مكتب؛ ويمكنك أيضًا الحضور دون موعد وستُخدم عندما يتوفر شباك.
notice-office-yours = { $name } ({ $code })، { $address }: المكتب الخاص بعنوانك؛ مفتوح { $hours }

notice-bring-document = جواز سفرك أو وثيقة سفر أخرى.
notice-bring-notice = هذا الإشعار.
notice-bring-photo = لا شيء آخر: ستُلتقط لك صورة في المكتب.
notice-bring-photo-prints = لا شيء آخر: ستُلتقط لك صورة وبصمات أصابع في المكتب.

notice-right-basis = هذا مطلوب بموجب { $title } ({ $id })، { $basis }. وينتهي في موعد أقصاه { $sunset }.
notice-right-good-cause = إذا لم تتمكن من الحضور في الوقت المحدد لسبب وجيه (مرض، تعطل السفر، حالة طارئة عائلية، إشعار وصلك متأخرًا)، فأبلغ أحد المكاتب: يمكن إعفاؤك، ويمكن تغيير الموعد.
notice-right-not-a-finding = عدم الحضور في الموعد أو في موعد محدد لا يُعد في حد ذاته حكمًا ضدك: الموعد الفائت يُمنح بدلًا منه موعد جديد. ولا يقرر إلا شخص، بعد الاستماع إليك، ما إذا كان التقصير متعمدًا، ولا يكون ذلك أبدًا دون أن يكون هذا الإشعار قد سُلّم إليك.
notice-right-counsel = يمكنك إحضار محامٍ أو ممثل آخر، وطلب مترجم دون أي تكلفة.
notice-right-records = يمكنك الاطلاع على كل السجلات المحفوظة عنك، ومن اطلع عليها ولماذا، وطلب تصحيحها.

notice-email-subject = { $title } (المرجع { $key })
notice-letter-title = إشعارات للطباعة

weekday-mon = الاثنين
weekday-tue = الثلاثاء
weekday-wed = الأربعاء
weekday-thu = الخميس
weekday-fri = الجمعة
weekday-sat = السبت
weekday-sun = الأحد

receipt-title = FAIRGATE: إيصال التسجيل
receipt-number = رقم التسجيل: { $number }
receipt-code = رمز الدخول إلى البوابة: { $code }
receipt-leaf = مُسجَّل في السجل العام عند الورقة { $leaf } (حجم الشجرة { $size }).
receipt-keep = احتفظ بهذا الإيصال: فهو يثبت أنك سجّلت. بالرقم والرمز يمكنك أن ترى في ‎/portal كل السجلات المحفوظة عنك، وكل من اطلع عليها ولماذا.

notice-no-appointment = لا يوجد موعد محجوز لك: احجز موعدًا عبر البوابة (المواعيد) أو عند أي شباك في أي مكتب، أو احضر دون موعد وستُخدم عندما يتوفر شباك.

portal-records-title = سجلاتك
portal-records-intro = كل ما يحتفظ به Fairgate عنك، وكل من اطلع عليه، حتى { $when }.
portal-erasure = ستُمحى سجلاتك من البرنامج { $program } في { $day }. احتفظ بهذه النسخة إذا كنت قد تحتاج إلى إثبات أنك امتثلت.
portal-you = أنت
portal-person = { $names }، تاريخ الميلاد { $born }، { $nationality }. الوثيقة { $document }.
portal-registrations = التسجيلات
portal-registration = { $number }: { $kind } في { $place } بتاريخ { $at }
portal-voluntary = (طوعي)
portal-crossings = الدخول والخروج
portal-crossing = { $direction } في { $port } بتاريخ { $at }
portal-disclosures = من اطلع على سجلاتك، ولماذا
portal-col-when = متى
portal-col-agency = الجهة
portal-col-role = الصفة
portal-col-purpose = الغرض
portal-col-what = ماذا

# البوابة في المتصفح.
web-language = اللغة
web-intro = اطّلع على كل سجل محفوظ عنك، وعلى كل من اطلع عليه ولماذا. تحتاج إلى رقم التسجيل ورمز التفعيل المدوّنين في إيصالك.
web-activate-heading = أول مرة: فعّل البوابة
web-number = رقم التسجيل
web-code = رمز التفعيل (في إيصالك)
web-choose-pass = اختر عبارة مرور
web-pass-hint = 12 حرفًا على الأقل. ستدخل بها من الآن فصاعدًا، ويتوقف الرمز عن العمل.
web-activate = فعّل
web-signin-heading = الدخول
web-pass = عبارة المرور
web-signin = ادخل
web-signout = اخرج
web-again = أرسل النموذج مرة أخرى.
web-wrong-code = رقم التسجيل أو رمز التفعيل غير صحيح: تحقق من كليهما في إيصالك.
web-used-code = سبق استخدام رمز التفعيل هذا: ادخل بعبارة المرور. إذا لم تكن أنت من فعّل البوابة، فاطلب رمزًا جديدًا من أحد المكاتب.
web-expired-code = مضى على رمز التفعيل هذا أكثر من 30 يومًا: اطلب رمزًا جديدًا من أحد المكاتب.
web-wrong-pass = رقم التسجيل أو عبارة المرور غير صحيحة، أو لم تُفعَّل البوابة بعد.
web-logged = سُجّلت هذه الصفحة بوصفها اطلاعك أنت، في الورقة { $leaf } من السجل العام.
web-none = لا يوجد شيء مسجل.
web-col-who = من
web-notices = ما يجب عليك فعله
web-no-notices = لا شيء: ليست لديك إشعارات.
web-book-heading = احجز الموعد أو غيّره
web-office = المكتب
web-office-usual = المكتب التابع لعنوانك
web-from = ابتداءً من يوم (YYYY-MM-DD، اختياري)
web-book = احجز أقرب وقت متاح
web-booked = الموعد: { $office }، يوم { $day } الساعة { $time }.
web-corrections = التصحيحات
web-correction-item = الطلب { $number } ({ $field }): { $status }. موعد الرد { $due }.
web-correction-answer = الرد: { $reply }
web-correction-field = ما الخطأ (مثلًا: الاسم، تاريخ الميلاد)
web-correction-text = ما الذي ينبغي أن يُكتب، ولماذا
web-correction-send = اطلب التصحيح
web-correction-sent = أُرسل الطلب { $number }. سيُرد عليه مع الأسباب في موعد أقصاه { $due }.
web-change-heading = أبلغنا بتغيير
web-change-kind = ما الذي تغيّر
web-change-address = العنوان
web-change-employer = جهة العمل
web-change-school = المدرسة
web-changed-on = في يوم (YYYY-MM-DD)
web-street = الشارع والرقم
web-city = المدينة
web-postal = الرمز البريدي
web-employer = اسم جهة العمل
web-school = اسم المدرسة
web-change-send = أبلغ عن التغيير
web-change-sent = سُجّل تغييرك (الورقة { $leaf } من السجل العام).
web-download-heading = نزّل كل شيء
web-download-intro = كل ما هو محفوظ عنك وكل اطلاع عليه، لتحتفظ به. واحتفظ بنسخة على وجه الخصوص عندما تكون سجلات أحد البرامج على وشك المحو.
web-download-html = صفحة للطباعة أو الحفظ
web-download-json = بيانات (JSON)
web-back = العودة إلى سجلاتك
web-problem = تعذّر تنفيذ ذلك

# إطار الصفحة.
layout-skip = انتقل إلى المحتوى الرئيسي
layout-public-pages = الصفحات العامة
layout-transparency = تقرير الشفافية
layout-calculator = حاسبة مدة الإقامة
layout-programs = البرامج
layout-policy = سياسة الوصول
layout-log = السجل العام
layout-expungements = عمليات المحو
layout-api = وصف واجهة البرمجة
