package mnist

import "strings"

// FashionClassNames are Fashion-MNIST's ten classes, label 0 first, as
// Zalando Research's README names them.
var FashionClassNames = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// ClassNames returns the class names of a dataset this package knows by
// name ("fashion-mnist", case-insensitive), or nil: MNIST's classes are
// the digits themselves and need no names.
func ClassNames(dataset string) []string {
	if strings.EqualFold(dataset, "fashion-mnist") {
		return append([]string(nil), FashionClassNames...)
	}
	return nil
}
