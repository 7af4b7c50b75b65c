// Prints the parameter count of EfficientFormer-L1 through the installed hwnas::spaces library.
#include <iostream>

#include "spaces/registry.h"

int main() {
  const hwnas::SearchSpace& s = hwnas::get_space("efficientformer");
  std::cout << s.decode(s.resolve("l1")).params() << "\n";
}
