module sluice

go 1.25
