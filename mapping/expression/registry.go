package expression

import (
	"slices"
)

// identifiers are the bare names an expression may use as constants: the
// compare modes of InStr, with their VBA values.
var identifiers = map[string]Value{
	"vbBinaryCompare": IntValue(0),
	"vbTextCompare":   IntValue(1),
}

// functions is every built-in function by its case-sensitive name.
var functions = func() map[string]*function {
	fs := []*function{
		// Strings.
		{name: "Append", params: []string{"source", "suffix"}, min: 2, required: 1, eval: evalAppend},
		{name: "Join", params: []string{"separator", "source"}, min: 2, variadic: true, eval: evalJoin},
		{name: "Left", params: []string{"String", "NumChars"}, min: 2, required: 2, prepare: prepLeft, eval: evalLeft},
		{name: "Mid", params: []string{"source", "start", "length"}, min: 3, required: 3, prepare: prepMid, eval: evalMid},
		{name: "PCase", params: []string{"source", "wordSeparators"}, min: 1, required: 1, eval: evalPCase},
		{name: "StripSpaces", params: []string{"source"}, min: 1, required: 1, eval: evalStripSpaces},
		{name: "ToLower", params: []string{"source", "culture"}, min: 1, required: 1, eval: evalToLower},
		{name: "ToUpper", params: []string{"source", "culture"}, min: 1, required: 1, eval: evalToUpper},
		{name: "Word", params: []string{"String", "WordNumber", "delimiters"}, min: 3, required: 3, eval: evalWord},
		{name: "NormalizeDiacritics", params: []string{"source"}, min: 1, required: 1, eval: evalNormalizeDiacritics},
		{name: "InStr", params: []string{"value1", "value2", "start", "compareType"}, min: 2, required: 2, prepare: prepInStr, eval: evalInStr},
		{name: "ConvertToBase64", params: []string{"source"}, min: 1, required: 1, eval: evalConvertToBase64},
		{name: "ConvertToUTF8Hex", params: []string{"source"}, min: 1, required: 1, eval: evalConvertToUTF8Hex},
		{name: "Replace", params: []string{"source", "oldValue", "regexPattern", "regexGroupName", "replacementValue", "replacementAttributeName", "template"}, min: 5, required: 1, prepare: prepReplace, eval: evalReplace},

		// Multi-valued attributes.
		{name: "Count", params: []string{"attribute"}, min: 1, required: 1, eval: evalCount},
		{name: "Item", params: []string{"attribute", "index"}, min: 2, required: 2, prepare: prepItem, eval: evalItem},
		{name: "RemoveDuplicates", params: []string{"attribute"}, min: 1, required: 1, eval: evalRemoveDuplicates},
		{name: "Split", params: []string{"source", "delimiter"}, min: 2, required: 2, eval: evalSplit},

		// Conditions and flow.
		{name: "IIF", params: []string{"condition", "valueIfTrue", "valueIfFalse"}, min: 3, required: 1, eval: evalIIF},
		{name: "Switch", params: []string{"source", "defaultValue", "key", "value"}, min: 4, required: 1, variadic: true, prepare: prepSwitch, eval: evalSwitch},
		{name: "Coalesce", params: []string{"source"}, min: 1, variadic: true, eval: evalCoalesce},
		{name: "Not", params: []string{"source"}, min: 1, required: 1, eval: evalNot},
		{name: "CBool", params: []string{"expression"}, min: 1, required: 1, eval: evalCBool},
		{name: "IsNull", params: []string{"expression"}, min: 1, required: 1, eval: evalIsNull},
		{name: "IsNullOrEmpty", params: []string{"expression"}, min: 1, required: 1, eval: evalIsNullOrEmpty},
		{name: "IsPresent", params: []string{"expression"}, min: 1, required: 1, eval: evalIsPresent},
		{name: "IsString", params: []string{"expression"}, min: 1, required: 1, eval: evalIsString},
		{name: "IgnoreFlowIfNullOrEmpty", params: []string{"expression"}, min: 1, required: 1, eval: evalIgnoreFlow},
		{name: "Redact", params: []string{"value"}, min: 1, required: 1, eval: evalRedact},
		{name: "SelectUniqueValue", params: []string{"uniqueValueRule"}, min: 2, required: 2, variadic: true, prepare: prepSelectUniqueValue, eval: evalSelectUniqueValue},

		// Numbers and conversion.
		{name: "BitAnd", params: []string{"value1", "value2"}, min: 2, required: 2, eval: evalBitAnd},
		{name: "CStr", params: []string{"value"}, min: 1, required: 1, eval: evalCStr},

		// Dates.
		{name: "CDate", params: []string{"expression"}, min: 1, required: 1, eval: evalCDate},
		{name: "DateAdd", params: []string{"interval", "value", "dateTime"}, min: 3, required: 3, prepare: prepInterval, eval: evalDateAdd},
		{name: "DateDiff", params: []string{"interval", "date1", "date2"}, min: 3, required: 3, prepare: prepInterval, eval: evalDateDiff},
		{name: "DateFromNum", params: []string{"value"}, min: 1, required: 1, eval: evalDateFromNum},
		{name: "NumFromDate", params: []string{"value"}, min: 1, required: 1, eval: evalNumFromDate},
		{name: "Now", eval: evalNow},
		{name: "FormatDateTime", params: []string{"source", "dateTimeStyles", "inputFormat", "outputFormat"}, min: 4, required: 1, prepare: prepFormatDateTime, eval: evalFormatDateTime},

		// Generated values.
		{name: "Guid", eval: evalGuid},
		{name: "RandomString", params: []string{"Length", "MinimumNumbers", "MinimumSpecialCharacters", "MinimumCapital", "MinimumLowerCase", "CharactersToAvoid"}, min: 5, required: 5, prepare: prepRandomString, eval: evalRandomString},

		// App roles.
		{name: "SingleAppRoleAssignment", params: []string{"appRoleAssignments"}, min: 1, required: 1, prepare: prepRoles, eval: evalSingleAppRoleAssignment},
		{name: "AppRoleAssignmentsComplex", params: []string{"appRoleAssignments"}, min: 1, required: 1, prepare: prepRoles, eval: evalAppRoleAssignments},
		{name: "AssertiveAppRoleAssignmentsComplex", params: []string{"appRoleAssignments"}, min: 1, required: 1, prepare: prepRoles, eval: evalAppRoleAssignments},
	}
	m := make(map[string]*function, len(fs))
	for _, f := range fs {
		m[f.name] = f
	}
	return m
}()

// Functions lists the names of every built-in function, sorted.
func Functions() []string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Parameters returns the documented parameter names of a function; the
// last one repeats when variadic is true. ok is false for unknown names.
func Parameters(name string) (params []string, variadic, ok bool) {
	f, ok := functions[name]
	if !ok {
		return nil, false, false
	}
	return slices.Clone(f.params), f.variadic, true
}
