/**
 * The seq the next record takes. One sequence per writer, shared by the rows
 * the store writes, the lines the spool takes (a spooled line keeps the seq it
 * got here) and the drop notices: so no two records of one writer share a seq.
 */
export class RecordSeqs {
  next = 1
}
