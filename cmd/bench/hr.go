package main

import (
	"encoding/csv"
	"fmt"
	"os"

	"github.com/openprovisioning/provisioner/examples/hrexport"
)

// hrColumns is the header the job's mapping reads; written here rather than
// taken from hrexport so that the bench's input stays what its job expects.
var hrColumns = []string{
	"employeeId", "userName", "givenName", "surname", "displayName", "email",
	"department", "jobTitle", "managerId", "status", "office", "employeeType",
}

func hrRow(e *hrexport.Employee) []string {
	return []string{
		e.ID, e.UserName, e.GivenName, e.Surname, e.DisplayName, e.Email,
		e.Department, e.JobTitle, e.ManagerID, e.Status, e.Office, e.EmployeeType,
	}
}

// inScope says whether the job provisions an employee: the scoping filter
// keeps employees, and inactive ones are disabled, so never created.
func inScope(e *hrexport.Employee) bool {
	return e.EmployeeType == "Employee" && e.Status == "Active"
}

// writeHR replaces the export at path in one rename, as an HR system that
// drops a new file does: staff, then more (written after them without a
// copy of the whole export).
func writeHR(path string, staff []hrexport.Employee, more ...hrexport.Employee) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write(hrColumns)
	for _, rows := range [][]hrexport.Employee{staff, more} {
		for i := range rows {
			_ = w.Write(hrRow(&rows[i]))
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// changeTitles gives n in-scope employees, spread over the file, a new job
// title: each needs exactly one PATCH in the next cycle. It returns their
// indexes.
func changeTitles(staff []hrexport.Employee, n int) ([]int, error) {
	var scope []int
	for i := range staff {
		if inScope(&staff[i]) {
			scope = append(scope, i)
		}
	}
	if n > len(scope) {
		return nil, fmt.Errorf("-changed %d is more than the %d in-scope users", n, len(scope))
	}
	out := make([]int, 0, n)
	for k := range n {
		i := scope[k*len(scope)/n]
		staff[i].JobTitle = "Acting " + staff[i].JobTitle
		out = append(out, i)
	}
	return out, nil
}
