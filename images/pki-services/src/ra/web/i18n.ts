/**
 * The pages' texts in English and Lao. Field labels come from the RA kinds (environments/cp.ts
 * CP_RA_KINDS, served by GET /api/v1/kinds): the page and the API read one declaration.
 */
export const LANGS = ["lo", "en"] as const;
export type Lang = (typeof LANGS)[number];

export const T = {
  en: {
    brand: "LANIC Certification Authority", langName: "English", other: "ພາສາລາວ",
    home: "Apply for a certificate", homeIntro: "Choose the kind of certificate. Fields marked * are required.",
    statusTitle: "Application status", statusLookup: "See an application's status", applicationId: "Application number", accessToken: "Access token",
    enrollTitle: "Enroll: make your key and receive your certificate", enrollIntro: "Your browser makes the key pair. The private key never leaves this computer: only a certificate request is sent. Save the file and keep its password.",
    enrollCode: "Enrollment code", p12Password: "Password for the certificate file (at least 8 characters)", p12Confirm: "The same password again",
    enrollButton: "Make my key and get my certificate", download: "Save the certificate file (.p12)", revocationSecret: "Revocation secret (keep it: it lets you revoke this certificate)",
    generating: "Making your key in this browser…", sending: "Sending the request (your private key stays here)…", packaging: "Packaging key and certificate (PKCS#12)…",
    done: "Done: save the file and keep the password safe.", failed: "The request was refused.", passwordShort: "At least 8 characters.", passwordMismatch: "The two passwords differ.",
    needsJs: "This step needs JavaScript: the key is made by your browser.", ownCsr: "Or paste your own certificate request (PKCS#10, PEM)", ownCsrButton: "Send my request",
    submit: "Submit the application", required: "required", maxChars: "at most {n} characters", fixed: "fixed",
    submitted: "Application received", keepToken: "Keep the application number and the access token: they are shown only once and are needed to follow the application.",
    fixErrors: "Please correct the fields marked below.", state: "State", kind: "Kind", fields: "Data", reason: "Reason", serial: "Certificate serial",
    console: "Operator console", queue: "Applications to vet", open: "Open", report: "Approvals report", from: "From", to: "To", show: "Show",
    actions: "Actions", startReview: "Start review", accept: "Accept for approval", return: "Return for correction", reject: "Reject", approve: "Approve", revoke: "Revoke", withdraw: "Withdraw",
    officer: "Vetting officer", approver: "Vetting approver", you: "You are", roles: "roles", enrollmentCodeGiven: "Enrollment code for the holder (shown once: give it to the holder)",
    done2: "Done.", refused: "Refused", noCert: "A client certificate issued to a trusted role is required for the operator console.", notFound: "Not found",
    revokeTitle: "Ask for revocation", revokeIntro: "With the revocation secret given when the certificate was delivered.", revokeButton: "Revoke my certificate",
    violations: "Rule violations", none: "none", noApplications: "No applications.",
    errRequired: "This field is required.", errMaxLength: "Too long: at most {n} characters (you typed {got}).", errPattern: "The value does not have the required form.",
    errChars: "Contains a character that is not allowed (control characters and < >).", errSpaces: "Remove the spaces at the start or the end.",
    bulk: "Bulk upload (CSV)", bulkIntro: "A CSV file in UTF-8, one application per row, the first row naming the columns (the kind's field names). Check it with a dry run: nothing is stored and every bad row is shown; then upload it: the good rows are kept and the bad ones reported.",
    bulkFile: "CSV file", dryRun: "Check (dry run)", commit: "Upload the good rows", row: "Row", column: "Column", problem: "What is wrong",
    rowsTotal: "Rows", goodRows: "Good rows", badRows: "Bad rows", dryRunDone: "Dry run: nothing was stored.", batchStored: "Uploaded: the good rows were stored as applications.",
    duplicateBatch: "This file was uploaded before: nothing was created again.", noProblems: "No problems found.", batch: "Batch",
    fourEyes: "You accepted this application as its vetting officer: another vetting approver must approve it (separation of duties).",
  },
  lo: {
    brand: "ອົງການອອກໃບຢັ້ງຢືນ LANIC", langName: "ພາສາລາວ", other: "English",
    home: "ຍື່ນຂໍໃບຢັ້ງຢືນ", homeIntro: "ເລືອກປະເພດໃບຢັ້ງຢືນ. ຊ່ອງທີ່ມີເຄື່ອງໝາຍ * ແມ່ນຈຳເປັນ.",
    statusTitle: "ສະຖານະຂອງຄຳຮ້ອງ", statusLookup: "ເບິ່ງສະຖານະຂອງຄຳຮ້ອງ", applicationId: "ເລກທີຄຳຮ້ອງ", accessToken: "ລະຫັດເຂົ້າເບິ່ງ",
    enrollTitle: "ລົງທະບຽນ: ສ້າງກະແຈ ແລະ ຮັບໃບຢັ້ງຢືນ", enrollIntro: "ບຣາວເຊີຂອງທ່ານສ້າງຄູ່ກະແຈ. ກະແຈສ່ວນຕົວບໍ່ອອກຈາກຄອມພິວເຕີນີ້: ສົ່ງພຽງແຕ່ຄຳຂໍໃບຢັ້ງຢືນ. ບັນທຶກໄຟລ໌ ແລະ ຮັກສາລະຫັດຜ່ານ.",
    enrollCode: "ລະຫັດລົງທະບຽນ", p12Password: "ລະຫັດຜ່ານຂອງໄຟລ໌ໃບຢັ້ງຢືນ (ຢ່າງໜ້ອຍ 8 ຕົວອັກສອນ)", p12Confirm: "ລະຫັດຜ່ານເດີມອີກຄັ້ງ",
    enrollButton: "ສ້າງກະແຈ ແລະ ຮັບໃບຢັ້ງຢືນ", download: "ບັນທຶກໄຟລ໌ໃບຢັ້ງຢືນ (.p12)", revocationSecret: "ລະຫັດລັບສຳລັບຖອນໃບຢັ້ງຢືນ (ຮັກສາໄວ້)",
    generating: "ກຳລັງສ້າງກະແຈໃນບຣາວເຊີ…", sending: "ກຳລັງສົ່ງຄຳຂໍ (ກະແຈສ່ວນຕົວຍັງຢູ່ທີ່ນີ້)…", packaging: "ກຳລັງຫຸ້ມຫໍ່ກະແຈ ແລະ ໃບຢັ້ງຢືນ (PKCS#12)…",
    done: "ສຳເລັດ: ບັນທຶກໄຟລ໌ ແລະ ຮັກສາລະຫັດຜ່ານໃຫ້ປອດໄພ.", failed: "ຄຳຂໍຖືກປະຕິເສດ.", passwordShort: "ຢ່າງໜ້ອຍ 8 ຕົວອັກສອນ.", passwordMismatch: "ລະຫັດຜ່ານທັງສອງບໍ່ຄືກັນ.",
    needsJs: "ຂັ້ນຕອນນີ້ຕ້ອງການ JavaScript: ກະແຈຖືກສ້າງໂດຍບຣາວເຊີຂອງທ່ານ.", ownCsr: "ຫຼື ວາງຄຳຂໍໃບຢັ້ງຢືນຂອງທ່ານເອງ (PKCS#10, PEM)", ownCsrButton: "ສົ່ງຄຳຂໍຂອງຂ້ອຍ",
    submit: "ຍື່ນຄຳຮ້ອງ", required: "ຈຳເປັນ", maxChars: "ບໍ່ເກີນ {n} ຕົວອັກສອນ", fixed: "ຄົງທີ່",
    submitted: "ໄດ້ຮັບຄຳຮ້ອງແລ້ວ", keepToken: "ຮັກສາເລກທີຄຳຮ້ອງ ແລະ ລະຫັດເຂົ້າເບິ່ງ: ສະແດງພຽງຄັ້ງດຽວ ແລະ ຕ້ອງໃຊ້ເພື່ອຕິດຕາມຄຳຮ້ອງ.",
    fixErrors: "ກະລຸນາແກ້ໄຂຊ່ອງທີ່ໝາຍໄວ້ຂ້າງລຸ່ມ.", state: "ສະຖານະ", kind: "ປະເພດ", fields: "ຂໍ້ມູນ", reason: "ເຫດຜົນ", serial: "ເລກລຳດັບໃບຢັ້ງຢືນ",
    console: "ໜ້າຈໍຜູ້ປະຕິບັດງານ", queue: "ຄຳຮ້ອງທີ່ຕ້ອງກວດສອບ", open: "ເປີດ", report: "ລາຍງານການອະນຸມັດ", from: "ແຕ່", to: "ເຖິງ", show: "ສະແດງ",
    actions: "ການດຳເນີນການ", startReview: "ເລີ່ມກວດສອບ", accept: "ຮັບເພື່ອອະນຸມັດ", return: "ສົ່ງຄືນເພື່ອແກ້ໄຂ", reject: "ປະຕິເສດ", approve: "ອະນຸມັດ", revoke: "ຖອນໃບຢັ້ງຢືນ", withdraw: "ຖອນຄຳຮ້ອງ",
    officer: "ເຈົ້າໜ້າທີ່ກວດສອບ", approver: "ຜູ້ອະນຸມັດ", you: "ທ່ານແມ່ນ", roles: "ບົດບາດ", enrollmentCodeGiven: "ລະຫັດລົງທະບຽນສຳລັບຜູ້ຖື (ສະແດງຄັ້ງດຽວ: ມອບໃຫ້ຜູ້ຖື)",
    done2: "ສຳເລັດ.", refused: "ຖືກປະຕິເສດ", noCert: "ໜ້າຈໍຜູ້ປະຕິບັດງານຕ້ອງການໃບຢັ້ງຢືນລູກຂ່າຍທີ່ອອກໃຫ້ບົດບາດທີ່ໄວ້ວາງໃຈ.", notFound: "ບໍ່ພົບ",
    revokeTitle: "ຂໍຖອນໃບຢັ້ງຢືນ", revokeIntro: "ດ້ວຍລະຫັດລັບທີ່ໄດ້ຮັບເມື່ອຮັບໃບຢັ້ງຢືນ.", revokeButton: "ຖອນໃບຢັ້ງຢືນຂອງຂ້ອຍ",
    violations: "ການລະເມີດກົດລະບຽບ", none: "ບໍ່ມີ", noApplications: "ບໍ່ມີຄຳຮ້ອງ.",
    errRequired: "ຊ່ອງນີ້ຈຳເປັນຕ້ອງໃສ່.", errMaxLength: "ຍາວເກີນໄປ: ບໍ່ເກີນ {n} ຕົວອັກສອນ (ທ່ານພິມ {got}).", errPattern: "ຄ່າບໍ່ຖືກຕາມຮູບແບບທີ່ກຳນົດ.",
    errChars: "ມີຕົວອັກສອນທີ່ບໍ່ອະນຸຍາດ (ຕົວຄວບຄຸມ ແລະ < >).", errSpaces: "ລຶບຍະຫວ່າງຢູ່ຕົ້ນ ຫຼື ທ້າຍອອກ.",
    bulk: "ອັບໂຫຼດເປັນຊຸດ (CSV)", bulkIntro: "ໄຟລ໌ CSV ແບບ UTF-8, ໜຶ່ງຄຳຮ້ອງຕໍ່ແຖວ, ແຖວທຳອິດແມ່ນຊື່ຖັນ (ຊື່ຊ່ອງຂອງປະເພດ). ກວດສອບກ່ອນ: ບໍ່ມີຫຍັງຖືກບັນທຶກ ແລະ ສະແດງທຸກແຖວທີ່ຜິດ; ຈາກນັ້ນອັບໂຫຼດ: ແຖວທີ່ຖືກຕ້ອງຈະຖືກເກັບໄວ້ ແລະ ແຖວທີ່ຜິດຈະຖືກລາຍງານ.",
    bulkFile: "ໄຟລ໌ CSV", dryRun: "ກວດສອບ (ບໍ່ບັນທຶກ)", commit: "ອັບໂຫຼດແຖວທີ່ຖືກຕ້ອງ", row: "ແຖວ", column: "ຖັນ", problem: "ຜິດຫຍັງ",
    rowsTotal: "ຈຳນວນແຖວ", goodRows: "ແຖວທີ່ຖືກຕ້ອງ", badRows: "ແຖວທີ່ຜິດ", dryRunDone: "ກວດສອບເທົ່ານັ້ນ: ບໍ່ມີຫຍັງຖືກບັນທຶກ.", batchStored: "ອັບໂຫຼດແລ້ວ: ແຖວທີ່ຖືກຕ້ອງຖືກບັນທຶກເປັນຄຳຮ້ອງ.",
    duplicateBatch: "ໄຟລ໌ນີ້ເຄີຍອັບໂຫຼດແລ້ວ: ບໍ່ມີຫຍັງຖືກສ້າງຊ້ຳ.", noProblems: "ບໍ່ພົບບັນຫາ.", batch: "ຊຸດ",
    fourEyes: "ທ່ານໄດ້ຮັບຄຳຮ້ອງນີ້ໃນຖານະເຈົ້າໜ້າທີ່ກວດສອບ: ຜູ້ອະນຸມັດຄົນອື່ນຕ້ອງເປັນຜູ້ອະນຸມັດ (ການແບ່ງແຍກໜ້າທີ່).",
  },
} as const satisfies Record<Lang, Record<string, string>>;

export type Texts = (typeof T)["en"];

export const STATE_NAMES: Record<Lang, Record<string, string>> = {
  en: { submitted: "submitted", in_review: "in review", accepted: "accepted for approval", approved: "approved", issued: "issued", delivered: "delivered", returned: "returned for correction", rejected: "rejected", withdrawn: "withdrawn", expired: "expired", revoked: "revoked" },
  lo: { submitted: "ຍື່ນແລ້ວ", in_review: "ກຳລັງກວດສອບ", accepted: "ຮັບເພື່ອອະນຸມັດ", approved: "ອະນຸມັດແລ້ວ", issued: "ອອກໃບຢັ້ງຢືນແລ້ວ", delivered: "ມອບແລ້ວ", returned: "ສົ່ງຄືນເພື່ອແກ້ໄຂ", rejected: "ຖືກປະຕິເສດ", withdrawn: "ຖອນແລ້ວ", expired: "ໝົດອາຍຸ", revoked: "ຖືກຖອນ" },
};

/**
 * The API's message for one field (`fields.<name>: <message>`, ra/service.ts) in the page's
 * language; an unknown form falls back to the API's English text.
 */
export function fieldMessage(lang: Lang, message: string): string {
  const t = T[lang];
  let m: RegExpExecArray | null;
  if (/^is required/.test(message)) return t.errRequired;
  if ((m = /^has (\d+) characters, more than (\d+)/.exec(message))) return t.errMaxLength.replace("{n}", m[2]).replace("{got}", m[1]);
  if (/does not match the required form/.test(message)) return t.errPattern;
  if (/character that is not allowed/.test(message)) return t.errChars;
  if (/leading or trailing spaces/.test(message)) return t.errSpaces;
  return message;
}
