package hrexport

import "strings"

// Common given names from many countries; some carry diacritics so that
// mappings and targets meet them.
var givenNames = []string{
	"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
	"David", "Elizabeth", "William", "Susan", "Sarah", "Thomas", "Emma", "Olivia",
	"Noah", "Liam", "Sophia", "Ava", "Mia", "Lucas", "Hannah", "Leon",
	"José", "María", "Zoë", "Chloé", "François", "Hélène", "Björn", "Søren",
	"Åsa", "Jürgen", "Łukasz", "Zoltán", "Renée", "Mónica", "Inês", "João",
	"Ömer", "Çağla", "Tomáš", "Anaïs", "Noémie", "Raphaël", "Íñigo", "Ngọc",
	"Wei", "Yuki", "Hiroshi", "Min-jun", "Ji-woo", "Priya", "Arjun", "Aisha",
	"Fatima", "Mohammed", "Omar", "Amara", "Kwame", "Chinedu", "Olga", "Dmitri",
	"Ivan", "Katarzyna", "Piotr", "Giulia", "Marco", "Lars", "Ingrid", "Siobhán",
	"Seán", "Niamh", "Mateo", "Valentina", "Camila", "Diego", "Ana", "Pedro",
}

var surnames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
	"Wilson", "Taylor", "Anderson", "Thomas", "Moore", "Martin", "Lee", "Clark",
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
	"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
	"Dubois", "Lefèvre", "Moreau", "Girard", "Rossi", "Russo", "Bianchi", "Romano",
	"Silva", "Santos", "Conceição", "Kowalski", "Nowak", "Wiśniewski", "Novák", "Dvořák",
	"Nagy", "Kovács", "Jensen", "Nielsen", "Østergaard", "Johansson", "Andersson", "Lindström",
	"O'Brien", "Murphy", "Kelly", "Yılmaz", "Kaya", "Öztürk", "Nguyễn", "Trần",
	"Wang", "Li", "Zhang", "Chen", "Kim", "Park", "Sato", "Suzuki",
	"Patel", "Sharma", "Singh", "Khan", "Okafor", "Mensah", "Ivanov", "Petrov",
}

var offices = []string{
	"London", "New York", "Berlin", "São Paulo", "Singapore", "Sydney", "Toronto", "Bengaluru",
}

const executive = "Executive"

type department struct {
	name          string
	weight        int // share of the staff
	head, manager string
	titles        []string
}

// departments lists the executive office first; its head is the chief
// executive, and the others' heads report to them.
var departments = []department{
	{executive, 1, "Chief Executive Officer", "", []string{"Executive Assistant", "Chief of Staff"}},
	{"Engineering", 30, "Chief Technology Officer", "Engineering Manager",
		[]string{"Software Engineer", "Site Reliability Engineer", "QA Engineer", "Data Engineer", "Security Engineer"}},
	{"Sales", 18, "Vice President of Sales", "Sales Manager",
		[]string{"Account Executive", "Sales Development Representative", "Solutions Consultant"}},
	{"Customer Support", 15, "Head of Customer Support", "Support Team Lead",
		[]string{"Support Specialist", "Technical Support Engineer", "Customer Success Manager"}},
	{"Operations", 12, "Chief Operating Officer", "Operations Manager",
		[]string{"Operations Analyst", "Facilities Coordinator", "Procurement Specialist", "IT Administrator"}},
	{"Marketing", 8, "Chief Marketing Officer", "Marketing Manager",
		[]string{"Marketing Specialist", "Content Writer", "Product Marketing Manager", "Designer"}},
	{"Finance", 7, "Chief Financial Officer", "Finance Manager",
		[]string{"Accountant", "Financial Analyst", "Payroll Specialist"}},
	{"Human Resources", 5, "Chief People Officer", "HR Manager",
		[]string{"HR Business Partner", "Recruiter", "HR Generalist"}},
}

var departmentByName = func() map[string]*department {
	m := map[string]*department{}
	for i := range departments {
		m[departments[i].name] = &departments[i]
	}
	return m
}()

var totalWeight = func() int {
	t := 0
	for _, d := range departments {
		t += d.weight
	}
	return t
}()

// folds spells letters with diacritics in ASCII, for user names.
var folds = func() map[rune]string {
	m := map[rune]string{}
	for ascii, letters := range map[string]string{
		"a": "áàâäãåāąăầấậ", "c": "çćč", "d": "ďđ", "e": "éèêëēęěễế", "g": "ğ",
		"i": "íìîïīıİ", "l": "łľ", "n": "ñńň", "o": "óòôöõøőọơ", "r": "řŕ",
		"s": "śšşș", "t": "ťţț", "u": "úùûüūůűư", "y": "ýÿ", "z": "źżž",
		"ss": "ß", "ae": "æ", "oe": "œ",
	} {
		for _, r := range letters {
			m[r] = ascii
		}
	}
	return m
}()

// asciiFold lower-cases a name and keeps only ASCII letters and digits,
// spelling accented letters without their accents ("Zoë" → "zoe",
// "O'Brien" → "obrien").
func asciiFold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case folds[r] != "":
			b.WriteString(folds[r])
		}
	}
	return b.String()
}
