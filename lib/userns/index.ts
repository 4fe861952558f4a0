export { IdRange, allocateIdRange, idsInUse, USERNS_LOCK_DIR, USERNS_RANGE_MAX, USERNS_RANGE_MIN, USERNS_RANGE_SIZE } from './range';
