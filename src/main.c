#include <stdio.h>
int main(void) { puts("hookbridge"); return 0; }
