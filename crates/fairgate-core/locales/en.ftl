# Fairgate's notices and receipts, in English (the reference catalog: every other
# language has every message here; a test checks it).

notice-heading-what = What to do
notice-heading-when = By when
notice-heading-where = Where
notice-heading-appointment = Your appointment
notice-heading-bring = What to bring
notice-heading-rights = Your rights
notice-reference = Reference: { $key }
notice-by = By { $date } (inclusive).

notice-register-title = You need to register
notice-register-what = Register in person at a port of entry or at one of the offices below.
notice-reregister-title = Your registration needs renewing
notice-reregister-what = Come to one of the offices below to renew your registration.
notice-report-change-title = Please report your change
notice-report-change-what = Tell one of the offices below about your change of address, employer or school, in person or through the portal.
notice-record-departure-title = Please have your departure recorded
notice-record-departure-what = When you leave the country, ask the officer at the port to record your departure.
notice-interview-title = Your interview is due
notice-interview-what = Come to the office below for your interview.

notice-appointment = { $day } { $time }, at { $office } ({ $minutes } minutes). To move it, use the portal (Appointments) or ask at any office desk; you can also come without one and be served when a desk is free.
notice-office-yours = { $name } ({ $code }), { $address }: the office for your address; open { $hours }

notice-bring-document = Your passport or other travel document.
notice-bring-notice = This notice.
notice-bring-photo = Nothing else: a photograph will be taken at the office.
notice-bring-photo-prints = Nothing else: a photograph and fingerprints will be taken at the office.

notice-right-basis = This is required by { $title } ({ $id }), { $basis }. It ends on { $sunset } at the latest.
notice-right-good-cause = If you cannot come in time for a good reason (illness, travel disruption, a family emergency, a notice that reached you late), tell an office: you can be excused, and the date can move.
notice-right-not-a-finding = Missing the date or an appointment is not in itself a finding against you: a missed appointment brings a new one. Only a person, after hearing you, can decide whether a failure was willful, and never without this notice having been served.
notice-right-counsel = You may bring a lawyer or another representative, and ask for an interpreter at no cost.
notice-right-records = You can see every record held about you, who has looked at it and why, and ask for a correction.

notice-email-subject = { $title } (reference { $key })
notice-letter-title = Notices to print

weekday-mon = Mon
weekday-tue = Tue
weekday-wed = Wed
weekday-thu = Thu
weekday-fri = Fri
weekday-sat = Sat
weekday-sun = Sun

receipt-title = FAIRGATE REGISTRATION RECEIPT
receipt-number = Registration number: { $number }
receipt-code = Portal access code: { $code }
receipt-leaf = Recorded in the public log at leaf { $leaf } (tree size { $size }).
receipt-keep = Keep this receipt: it proves that you registered. With the number and the code you can see every record held on you, and everyone who has looked at it and why, at /portal.

notice-no-appointment = No appointment is booked for you: book one in the portal (Appointments) or at any office desk, or come without one and be served when a desk is free.

portal-records-title = Your records
portal-records-intro = Everything Fairgate holds on you, and everyone who looked at it, as of { $when }.
portal-erasure = Your records from program { $program } will be erased on { $day }. Keep this copy if you may need to show that you complied.
portal-you = You
portal-person = { $names }, born { $born }, { $nationality }. Document { $document }.
portal-registrations = Registrations
portal-registration = { $number }: { $kind } at { $place } on { $at }
portal-voluntary = (voluntary)
portal-crossings = Entries and exits
portal-crossing = { $direction } at { $port } on { $at }
portal-disclosures = Who looked at your records, and why
portal-col-when = when
portal-col-agency = agency
portal-col-role = role
portal-col-purpose = purpose
portal-col-what = what

# The portal in the browser.
web-language = Language
web-intro = See every record held on you, and everyone who looked at it and why. You need the registration number and the activation code on your receipt.
web-activate-heading = First time: activate
web-number = Registration number
web-code = Activation code (on your receipt)
web-choose-pass = Choose a passphrase
web-pass-hint = At least 12 characters. You sign in with it from now on; the code stops working.
web-activate = Activate
web-signin-heading = Sign in
web-pass = Passphrase
web-signin = Sign in
web-signout = Sign out
web-again = Send the form again.
web-wrong-code = The registration number or the activation code is not right: check both on your receipt.
web-used-code = This activation code was already used: sign in with your passphrase. If you did not activate the portal, ask an office for a new code.
web-expired-code = This activation code is more than 30 days old: ask an office for a new one.
web-wrong-pass = The registration number or the passphrase is not right, or the portal is not activated yet.
web-logged = This page was logged as your own read, at leaf { $leaf } of the public log.
web-none = None recorded.
web-col-who = who
web-notices = What you must do
web-no-notices = Nothing: you have no notices.
web-book-heading = Book or move the appointment
web-office = Office
web-office-usual = The office for your address
web-from = From the day (YYYY-MM-DD, optional)
web-book = Book the earliest free time
web-booked = Booked: { $office }, { $day } at { $time }.
web-corrections = Corrections
web-correction-item = Request { $number } ({ $field }): { $status }. Answer due { $due }.
web-correction-answer = Answer: { $reply }
web-correction-field = What is wrong (for example: given names, date of birth)
web-correction-text = What it should say, and why
web-correction-send = Ask for the correction
web-correction-sent = Request { $number } sent. It is answered, with reasons, by { $due }.
web-change-heading = Tell us about a change
web-change-kind = What changed
web-change-address = Address
web-change-employer = Employer
web-change-school = School
web-changed-on = On the day (YYYY-MM-DD)
web-street = Street and number
web-city = City
web-postal = Postal code
web-employer = Employer's name
web-school = School's name
web-change-send = Report the change
web-change-sent = Your change is recorded (leaf { $leaf } of the public log).
web-download-heading = Download everything
web-download-intro = Everything held on you and every access to it, to keep. Above all, keep a copy while a program's records are about to be erased.
web-download-html = As a page to print or keep
web-download-json = As data (JSON)
web-back = Back to your records
web-problem = This could not be done

# The page frame.
layout-skip = Skip to main content
layout-public-pages = Public pages
layout-transparency = Transparency report
layout-calculator = Stay calculator
layout-programs = Programs
layout-policy = Access policy
layout-log = The public log
layout-expungements = Expungements
layout-api = API description
