// Package expression implements the expression language of Azure's
// attribute mappings, so a mapping written for Azure works unchanged.
//
// # Syntax
//
// An expression is a function call, FunctionName(argument, …), whose
// arguments are attributes in brackets ([givenName]), string constants in
// double quotes ("Sales", with \\ and \" as the only escapes; any other
// backslash is kept, so regular expressions read naturally), integers (7,
// -10, VBA hexadecimal &HF7), the names vbTextCompare and vbBinaryCompare,
// or other calls. An argument may be left empty, as in
// Replace([mail], "@contoso.com", , , "", , ). A condition may compare two
// values with = <> < <= > >=. Names are case-sensitive. A lone attribute or
// constant is also accepted as a whole expression.
//
// Compile parses and checks an expression once (syntax, function names,
// argument counts and constant arguments such as regular expressions,
// date intervals and formats) and reports every problem with its 1-based
// character position. The compiled Expr is evaluated for each object with
// an Env and never re-parsed.
//
// # Values
//
// Values are null, strings, booleans, integers, floats, dates and lists
// (multi-valued attributes). Booleans print as "True" and "False", dates as
// M/d/yyyy h:mm:ss tt in UTC, as Azure prints them. A function that expects
// one string and receives a list of one value uses that value; a longer
// list is an evaluation error.
//
// # Functions
//
// All 44 functions Azure documents are implemented: Append,
// AppRoleAssignmentsComplex, AssertiveAppRoleAssignmentsComplex, BitAnd,
// CBool, CDate, Coalesce, ConvertToBase64, ConvertToUTF8Hex, Count, CStr,
// DateAdd, DateDiff, DateFromNum, FormatDateTime, Guid,
// IgnoreFlowIfNullOrEmpty, IIF, InStr, IsNull, IsNullOrEmpty, IsPresent,
// IsString, Item, Join, Left, Mid, NormalizeDiacritics, Not, Now,
// NumFromDate, PCase, RandomString, Redact, RemoveDuplicates, Replace (all
// five modes), SelectUniqueValue, SingleAppRoleAssignment, Split,
// StripSpaces, Switch, ToLower, ToUpper and Word.
//
// # Where behaviour differs from Azure
//
//   - Switch is evaluated for every object from its current source value.
//     Azure documents a bug where a Switch whose source did not change
//     evaluates to null when another mapped attribute changes, clearing the
//     target; that does not happen here, so the IIF workaround is not needed.
//   - IIF works on null and empty values: a null compares equal to "" (so
//     IIF([country]="", "Other", [country]) does what it says), IsPresent
//     and IsNullOrEmpty can be used as conditions, and an ordering
//     comparison with a null or empty side is false. Azure documents that
//     the condition check fails in these cases.
//   - Coalesce skips empty strings as well as nulls, because sources such
//     as CSV files cannot tell an empty value from a missing one; the last
//     argument is returned when nothing else has a value.
//   - Join skips null and empty values, as Azure's own example
//     Join(", ", "", [surname], [givenName]) → "Doe, John" requires.
//   - Split trims the values and drops empty ones, matching the documented
//     output ["PermissionSetOne", "PermissionSetTwo"].
//   - Regular expressions (Replace) use Go's RE2 syntax: named groups
//     (?<name>…), classes, anchors and quantifiers work as in .NET, but
//     lookaround and backreferences do not and are reported at compile time.
//     Replacement patterns follow .NET: ${name}, $1, $$, $&, $`, $' and $_.
//   - Dates are parsed from ISO 8601 (with or without time and offset, such
//     as Workday's "2020-03-16-07:00"), M/d/yyyy h:mm:ss tt, LDAP
//     generalized time and RFC 1123, standing in for .NET's DateTime.Parse.
//     FormatDateTime supports .NET standard and custom format strings and
//     DateTimeStyles in the invariant culture; times are kept in UTC, the
//     service's local time.
//   - DateDiff counts calendar boundaries for yyyy and m and rounds the
//     elapsed time for d, ww, h, n and s, which reproduces Azure's
//     documented results.
//   - ToLower and ToUpper honour the tr and az cultures (dotted and dotless
//     i); every other culture cases like the invariant culture.
//   - PCase without separators treats apostrophes as part of a word, as
//     .NET's ToTitleCase does; other punctuation, symbols and white space
//     separate words.
//   - SelectUniqueValue works with any target: it asks Env.Exists whether a
//     candidate is taken (Azure supports it only for Active Directory). It
//     must be the outermost function.
//   - The app role functions read appRoleAssignments as a list of role
//     values or JSON objects with a "value"; AppRoleAssignmentsComplex and
//     AssertiveAppRoleAssignmentsComplex return every role, and it is the
//     caller that adds or replaces roles in the target.
//   - Functions given a null source return null (the attribute stays
//     missing) except where Azure documents otherwise: Left and Word return
//     "", Count returns 0, IsNull and its relatives return booleans.
//   - Redact returns its argument unchanged; callers check Expr.Calls
//     ("Redact") and hide the value from logs and history.
//   - IgnoreFlowIfNullOrEmpty yields a null marked with Value.Ignored, which
//     tells the caller to leave the target attribute alone.
package expression
