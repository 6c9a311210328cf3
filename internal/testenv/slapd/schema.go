package slapd

// ADSchema adds the Active Directory attributes a source connector reads,
// for tests that imitate AD on OpenLDAP: objectGUID (16 raw bytes),
// userAccountControl (flags; 0x2 = disabled), uSNChanged (an ordered change
// counter; AD advances it itself, tests set it by hand) and sAMAccountName,
// held by the auxiliary class adAccount. The OIDs are under IANA's example
// enterprise number (RFC 5612).
const ADSchema = `
attributetype ( 1.3.6.1.4.1.32473.1.1.1 NAME 'objectGUID'
	EQUALITY octetStringMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.2 NAME 'userAccountControl'
	EQUALITY integerMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.3 NAME 'uSNChanged'
	EQUALITY integerMatch ORDERING integerOrderingMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.4 NAME 'sAMAccountName'
	EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.32473.1.2.1 NAME 'adAccount' SUP top AUXILIARY
	MAY ( objectGUID $ userAccountControl $ uSNChanged $ sAMAccountName ) )
`
