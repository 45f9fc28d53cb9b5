"""Every word the patient reads on the handout, one catalogue per language.

The care texts of data/protocols.yaml are written for practitioners, with the sources cited;
the patient reads these instead, keyed by the same ids (`care.<care item id>`,
`protocol.<protocol id>`, `results.<protocol id>`, `phase.<phase id>`). Durations come from
the data through placeholders (`{hours}`, `{days}`), so a clinic's longer wait is printed as
it set it. tests/test_catalogue.py fails when a key or a placeholder is missing in a language,
or when the shipped data has a care item, protocol or phase without patient text.

The Turkish is written for patients, not translated word for word: short sentences, the
polite "siz", everyday words.
"""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    EN = "en"
    TR = "tr"


# The handout's language when neither --lang nor the clinic profile names one.
DEFAULT_LANG = Lang.EN

# Babel date patterns: "Fri 27 Nov 2026"; "Cuma 27 Kasım 2026" (the weekday spelt out, no
# ambiguity between day/month and month/day).
DATE_PATTERN = {Lang.EN: "EEE d MMM y", Lang.TR: "EEEE d MMMM y"}

Catalogue = dict[str, str]

EN: Catalogue = {
    # --- the page ---
    "title": "Your mesotherapy course: {protocol}",
    "who.name": "Patient: {name}",
    "who.id": "Patient id: {id}",
    "who.prepared": "Prepared: {date}",
    "who.practitioner": "Practitioner: {name}",
    "heading.key_dates": "Key dates",
    "heading.sessions": "Your sessions",
    "heading.before.first": "Before your first session",
    "heading.before.next": "Before your next session",
    "heading.after_each": "After each session",
    "heading.sun": "Sun and solarium",
    "heading.results": "Results",
    "heading.call": "When to call the clinic",
    "key.nsaid_last_day": "Last day you may take anti-inflammatory painkillers",
    "key.first": "First session",
    "key.next": "Next session",
    "key.last": "Last session",
    "key.sun": "No sun or solarium until",
    "at_time": "{date} at {time}",
    "col.number": "No.",
    "col.date": "Date",
    "col.part": "Part of the course",
    "col.care": "Aftercare until",
    "done": "(done)",
    "care_until": (
        "Aftercare until: {days} after each session. Until that day some redness or bruising "
        "may still show; follow the advice under “After each session”."
    ),
    "sessions.total": "{sessions} in all.",
    "sessions.total_done": "{sessions} in all, {done} already done.",
    "sessions.minutes": "Each session takes about {minutes} minutes.",
    "sessions.time": "Session time: {time}.",
    "n.sessions.one": "{n} session",
    "n.sessions.other": "{n} sessions",
    "n.days.one": "{n} day",
    "n.days.other": "{n} days",
    "n.hours.one": "{n} hour",
    "n.hours.other": "{n} hours",
    "ahead.week": "a week",
    # --- painkillers: never aspirin by name (it may be a prescribed blood thinner) ---
    "nsaid.until.first": (
        "Take your last anti-inflammatory painkiller (such as ibuprofen or naproxen) on {date} "
        "at the latest, {ahead} before your first session."
    ),
    "nsaid.until.next": (
        "Take your last anti-inflammatory painkiller (such as ibuprofen or naproxen) on {date} "
        "at the latest, {ahead} before your next session."
    ),
    "nsaid.now.first": (
        "Take no anti-inflammatory painkillers (such as ibuprofen or naproxen) from now until "
        "your first session on {date}."
    ),
    "nsaid.now.next": (
        "Take no anti-inflammatory painkillers (such as ibuprofen or naproxen) from now until "
        "your next session on {date}."
    ),
    "no_injection": "Nothing is injected in this treatment.",
    "sun.first": (
        "No sunbathing and no solarium from your first session until {date}, {days} after "
        "your last session."
    ),
    "sun.now": (
        "No sunbathing and no solarium from now until {date}, {days} after your last session."
    ),
    "sun.clash": (
        "Your planned sun holiday from {start} to {end} falls in this time: please talk to us "
        "about it."
    ),
    "call.before": (
        "Call before a session if you have a fever or an infection, start a new medicine, or "
        "become pregnant: the session may have to wait."
    ),
    "call.before.male": (
        "Call before a session if you have a fever or an infection, or start a new medicine: "
        "the session may have to wait."
    ),
    "phone": "Phone {phone}",
    "footer": (
        "Dates may move if a session is missed: the clinic will tell you. Planned with meso "
        "{version}, clinical data {data}."
    ),
    # --- care items (data/protocols.yaml), for the patient ---
    "care.consultation": "Talk with your doctor before the course about what to expect.",
    "care.stop-nsaids": (
        "These medicines make bruising and bleeding more likely. If a doctor prescribed you a "
        "medicine to thin the blood, never stop it without asking that doctor."
    ),
    "care.sun": "No sunbathing and no solarium during the course and for {days} after it.",
    "care.bath": "Do not take a bath for {hours} after a session.",
    "care.side-effects": (
        "Redness, swelling, bruising, itching, tenderness, a passing burning feeling or mild "
        "pain where the needle went in are normal. They usually go within {days}. Some people "
        "also feel sick (nausea)."
    ),
    "care.call-clinic": (
        "Call us if the treated skin looks infected, or if you get a rash. This is rare, but it "
        "can happen."
    ),
    "care.hair-wet": (
        "Do not wash or wet your hair for a short time after a session. Ask us how long."
    ),
    "care.hair-products": "Take a break from the hair care products you use at home.",
    "care.hair-medication": (
        "After a session, take no other medicine, such as a painkiller, unless your doctor "
        "agrees. Keep taking the medicines your doctor prescribed."
    ),
    "care.diet": (
        "During the course, follow the diet your doctor suggests, use little or no salt, drink "
        "plenty of water and exercise."
    ),
    # --- protocols ---
    "protocol.hair": "Hair loss",
    "protocol.cellulite": "Cellulite",
    "protocol.face-rejuvenation": "Face rejuvenation",
    "protocol.localized-fat": "Localized fat",
    "protocol.pigmentation": "Skin blemishes and dark spots",
    "protocol.stretch-marks": "Stretch marks and scars",
    "protocol.dark-circles": "Dark circles and puffy eyes",
    "protocol.pain": "Pain",
    "protocol.no-needle": "No-needle mesotherapy",
    "phase.weekly": "Weekly",
    "phase.monthly": "Monthly",
    "phase.fortnightly": "Every one or two weeks",
    "phase.single": "Single session",
    "phase.treatment": "Treatment",
    "phase.maintenance": "Maintenance",
    "phase.initial": "First sessions",
    "phase.spaced": "Spaced sessions",
    "results.hair": (
        "Hair loss usually stops after the 3rd session. Thicker hair shows after 4 to 6 "
        "months. For hair loss after childbirth or from anaemia, one session may be enough."
    ),
    "results.cellulite": (
        "Results depend on you: the kind of cellulite, your age and how long you have had it. "
        "8 to 14 sessions are usually enough; some people need up to 20."
    ),
    "results.face-rejuvenation": (
        "You may see the first changes within a couple of weeks. The full result takes about "
        "five sessions and lasts about a year and a half."
    ),
    "results.localized-fat": (
        "Results are not certain: there are few studies, and one found no change. Results "
        "depend on following the diet and exercising."
    ),
    "results.pigmentation": (
        "You may see the first changes within a couple of weeks. The full result takes about "
        "five sessions."
    ),
    "results.stretch-marks": "The full result takes about five sessions, a few weeks apart.",
    "results.dark-circles": (
        "You may see the first changes within a couple of weeks. The full result takes about "
        "five sessions."
    ),
    "results.pain": (
        "Mesotherapy was first used to ease pain, and studies report good results for muscles "
        "and joints."
    ),
    "results.no-needle": (
        "No needles, so no marks on the skin; the results are not as strong as with needle "
        "mesotherapy."
    ),
}

TR: Catalogue = {
    # --- the page ---
    "title": "Mezoterapi tedaviniz: {protocol}",
    "who.name": "Hasta: {name}",
    "who.id": "Hasta no: {id}",
    "who.prepared": "Hazırlanma tarihi: {date}",
    "who.practitioner": "Tedavinizi yapan: {name}",
    "heading.key_dates": "Önemli tarihler",
    "heading.sessions": "Seanslarınız",
    "heading.before.first": "İlk seansınızdan önce",
    "heading.before.next": "Sonraki seansınızdan önce",
    "heading.after_each": "Her seanstan sonra",
    "heading.sun": "Güneş ve solaryum",
    "heading.results": "Sonuçlar",
    "heading.call": "Kliniği ne zaman aramalısınız?",
    "key.nsaid_last_day": "İltihap giderici ağrı kesici alabileceğiniz son gün",
    "key.first": "İlk seans",
    "key.next": "Sonraki seans",
    "key.last": "Son seans",
    "key.sun": "Güneşten ve solaryumdan uzak duracağınız son gün",
    "at_time": "{date}, saat {time}",
    "col.number": "No.",
    "col.date": "Tarih",
    "col.part": "Tedavi aşaması",
    "col.care": "Bakım son günü",
    "done": "(yapıldı)",
    "care_until": (
        "Bakım son günü: her seanstan {days} sonrası. O güne kadar biraz kızarıklık ya da "
        "morarma görülebilir; “Her seanstan sonra” bölümündeki önerilere uyun."
    ),
    "sessions.total": "Toplam {sessions}.",
    "sessions.total_done": "Toplam {sessions}; {done} yapıldı.",
    "sessions.minutes": "Her seans yaklaşık {minutes} dakika sürer.",
    "sessions.time": "Seans saati: {time}.",
    "n.sessions.one": "{n} seans",
    "n.sessions.other": "{n} seans",
    "n.days.one": "{n} gün",
    "n.days.other": "{n} gün",
    "n.hours.one": "{n} saat",
    "n.hours.other": "{n} saat",
    "ahead.week": "bir hafta",
    # --- painkillers: never aspirin by name (it may be a prescribed blood thinner) ---
    "nsaid.until.first": (
        "İltihap giderici ağrı kesicilerin (ibuprofen, naproksen gibi) son dozunu en geç "
        "{date} günü alın. Bu, ilk seansınızdan {ahead} öncesidir."
    ),
    "nsaid.until.next": (
        "İltihap giderici ağrı kesicilerin (ibuprofen, naproksen gibi) son dozunu en geç "
        "{date} günü alın. Bu, sonraki seansınızdan {ahead} öncesidir."
    ),
    "nsaid.now.first": (
        "Bugünden başlayarak, {date} günkü ilk seansınıza kadar iltihap giderici ağrı kesici "
        "(ibuprofen, naproksen gibi) almayın."
    ),
    "nsaid.now.next": (
        "Bugünden başlayarak, {date} günkü sonraki seansınıza kadar iltihap giderici ağrı "
        "kesici (ibuprofen, naproksen gibi) almayın."
    ),
    "no_injection": "Bu tedavide iğne ile hiçbir şey verilmez.",
    "sun.first": (
        "İlk seansınızdan başlayarak {date} gününe kadar güneşlenmeyin ve solaryuma girmeyin. "
        "Bu tarih, son seansınızdan {days} sonrasıdır."
    ),
    "sun.now": (
        "Bugünden başlayarak {date} gününe kadar güneşlenmeyin ve solaryuma girmeyin. Bu "
        "tarih, son seansınızdan {days} sonrasıdır."
    ),
    "sun.clash": (
        "{start} ile {end} arasındaki tatil planınız bu döneme denk geliyor. Lütfen bunu "
        "bizimle konuşun."
    ),
    "call.before": (
        "Ateşiniz ya da bir enfeksiyonunuz varsa, yeni bir ilaca başladıysanız ya da hamile "
        "kaldıysanız seanstan önce bizi arayın. Seansın ertelenmesi gerekebilir."
    ),
    "call.before.male": (
        "Ateşiniz ya da bir enfeksiyonunuz varsa ya da yeni bir ilaca başladıysanız seanstan "
        "önce bizi arayın. Seansın ertelenmesi gerekebilir."
    ),
    "phone": "Telefon: {phone}",
    "footer": (
        "Bir seans kaçarsa tarihler değişebilir; klinik size haber verir. meso {version} ile "
        "planlandı, klinik veri {data}."
    ),
    # --- care items (data/protocols.yaml), for the patient ---
    "care.consultation": "Tedaviden önce, neler olacağını doktorunuzla konuşun.",
    "care.stop-nsaids": (
        "Bu ilaçlar morarma ve kanama riskini artırır. Doktorunuzun yazdığı kan sulandırıcı "
        "bir ilaç kullanıyorsanız, o doktora sormadan bu ilacı asla bırakmayın."
    ),
    "care.sun": (
        "Tedavi boyunca ve tedavi bittikten sonra {days} boyunca güneşlenmeyin ve solaryuma "
        "girmeyin."
    ),
    "care.bath": "Seanstan sonra {hours} boyunca banyo yapmayın.",
    "care.side-effects": (
        "İğne yapılan yerlerde kızarıklık, şişlik, morarma, kaşıntı, hassasiyet, geçici bir "
        "yanma ya da hafif ağrı olabilir. Bunlar normaldir ve genellikle {days} içinde geçer. "
        "Bazı kişilerde mide bulantısı da olur."
    ),
    "care.call-clinic": (
        "Tedavi edilen bölgede iltihap belirtisi görürseniz ya da ciltte döküntü çıkarsa bizi "
        "arayın. Bu nadirdir ama olabilir."
    ),
    "care.hair-wet": (
        "Seanstan sonra kısa bir süre saçınızı yıkamayın ve ıslatmayın. Ne kadar beklemeniz "
        "gerektiğini bize sorun."
    ),
    "care.hair-products": "Evde kullandığınız saç bakım ürünlerine bir süre ara verin.",
    "care.hair-medication": (
        "Seanstan sonra, doktorunuz onaylamadıkça başka bir ilaç (örneğin ağrı kesici) "
        "almayın. Doktorunuzun yazdığı ilaçları kullanmaya devam edin."
    ),
    "care.diet": (
        "Tedavi boyunca doktorunuzun önerdiği diyete uyun, tuzu azaltın ya da hiç kullanmayın, "
        "bol su için ve egzersiz yapın."
    ),
    # --- protocols ---
    "protocol.hair": "Saç dökülmesi",
    "protocol.cellulite": "Selülit",
    "protocol.face-rejuvenation": "Yüz gençleştirme",
    "protocol.localized-fat": "Bölgesel yağlanma",
    "protocol.pigmentation": "Cilt lekeleri",
    "protocol.stretch-marks": "Çatlaklar ve yara izleri",
    "protocol.dark-circles": "Göz altı morlukları ve şişlikleri",
    "protocol.pain": "Ağrı",
    "protocol.no-needle": "İğnesiz mezoterapi",
    "phase.weekly": "Haftalık",
    "phase.monthly": "Aylık",
    "phase.fortnightly": "Bir ya da iki haftada bir",
    "phase.single": "Tek seans",
    "phase.treatment": "Tedavi",
    "phase.maintenance": "Bakım",
    "phase.initial": "İlk seanslar",
    "phase.spaced": "Aralıklı seanslar",
    "results.hair": (
        "Saç dökülmesi genellikle 3. seanstan sonra durur. Saçlarınızın kalınlaştığını 4–6 ay "
        "sonra görürsünüz. Doğumdan sonra ya da kansızlık nedeniyle dökülen saçta tek seans "
        "yetebilir."
    ),
    "results.cellulite": (
        "Sonuç kişiden kişiye değişir: selülitin türüne, yaşınıza ve selülitin ne zamandır "
        "olduğuna bağlıdır. Genellikle 8–14 seans yeterlidir; bazı kişilerde 20 seansa kadar "
        "gerekebilir."
    ),
    "results.face-rejuvenation": (
        "İlk değişiklikleri birkaç hafta içinde görebilirsiniz. Tam sonuç için yaklaşık beş "
        "seans gerekir; sonuç yaklaşık bir buçuk yıl sürer."
    ),
    "results.localized-fat": (
        "Sonuç kesin değildir: bu konuda az çalışma vardır ve bir çalışmada değişiklik "
        "görülmemiştir. Sonuç, diyete uymanıza ve egzersiz yapmanıza bağlıdır."
    ),
    "results.pigmentation": (
        "İlk değişiklikleri birkaç hafta içinde görebilirsiniz. Tam sonuç için yaklaşık beş "
        "seans gerekir."
    ),
    "results.stretch-marks": "Tam sonuç için, birkaç hafta arayla yaklaşık beş seans gerekir.",
    "results.dark-circles": (
        "İlk değişiklikleri birkaç hafta içinde görebilirsiniz. Tam sonuç için yaklaşık beş "
        "seans gerekir."
    ),
    "results.pain": (
        "Mezoterapi ilk olarak ağrıyı azaltmak için kullanıldı. Çalışmalar kas ve eklem "
        "ağrılarında iyi sonuçlar bildiriyor."
    ),
    "results.no-needle": (
        "İğne kullanılmadığı için ciltte iz kalmaz; ancak sonuçlar iğneli mezoterapi kadar "
        "güçlü değildir."
    ),
}

CATALOGUES: dict[Lang, Catalogue] = {Lang.EN: EN, Lang.TR: TR}
