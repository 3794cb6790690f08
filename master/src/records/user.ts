// A person who uses Wharf. (Records: the ground floor; they import only each other.)

export type Role = 'admin' | 'user';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: number;
}

export interface UserWithPassword extends User {
  passwordHash: string;
}
