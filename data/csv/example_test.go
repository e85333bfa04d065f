package csv_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/myelin-go/myelin/data/csv"
)

func Example() {
	in := `sepal_length,sepal_width,species
5.1,3.5,0
6.2,2.9,1
`
	t, err := csv.Read(strings.NewReader(in), csv.Options{Header: true, HasLabel: true, LabelColumn: -1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Rows, t.Cols, t.Names, t.LabelName)
	fmt.Println(t.Features, t.Labels)

	_, err = csv.Read(strings.NewReader("1,2\n3,oops\n"), csv.Options{})
	fmt.Println(err)
	// Output:
	// 2 2 [sepal_length sepal_width] species
	// [5.1 3.5 6.2 2.9] [0 1]
	// csv: line 2, column 2: cell: want a number, got "oops"
}
